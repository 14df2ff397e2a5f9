def test_settings_load(settings):
    assert not settings.DEBUG
