"""suggest(): a target for each header of an uploaded file, from the way POS, shops and people title columns."""

import pytest
from django.utils import translation

from rewards.imports.columns import IGNORE, NOTE, TARGETS, suggest, target_choices


def test_shopify_customer_export():
    headers = [
        "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing", "Default Address Company",
        "Default Address Address1", "Default Address City", "Default Address Province Code",
        "Default Address Country Code", "Default Address Zip", "Default Address Phone", "Phone",
        "Accepts SMS Marketing", "Total Spent", "Total Orders", "Note", "Tax Exempt", "Tags",
    ]  # fmt: skip
    assert suggest(headers) == [
        IGNORE, "first_name", "last_name", "email", "email_consent", IGNORE, IGNORE, IGNORE, IGNORE, IGNORE,
        IGNORE, IGNORE, "phone", "sms_consent", "total_spent", "visits", "notes", IGNORE, "tags",
    ]  # fmt: skip


def test_square_customer_export():
    headers = [
        "Reference ID", "First Name", "Surname", "Email Address", "Phone Number", "Nickname", "Company Name",
        "Street Address 1", "City", "Postal Code", "Birthday", "Memo", "Square Customer ID", "Creation Source",
        "First Visit", "Last Visit", "Transaction Count", "Total Spend", "Email Subscription Status", "Groups",
    ]  # fmt: skip
    assert suggest(headers) == [
        IGNORE, "first_name", "last_name", "email", "phone", IGNORE, IGNORE, IGNORE, IGNORE, IGNORE, "birthday",
        "notes", IGNORE, IGNORE, "joined", "last_visit", "visits", "total_spent", "email_consent", "tags",
    ]  # fmt: skip


def test_loyverse_customer_export():
    headers = [
        "Customer name", "Email", "Phone", "Address", "City", "Region", "Postal code", "Country", "Customer code",
        "Note", "First visit", "Last visit", "Total visits", "Total spent", "Points balance",
    ]  # fmt: skip
    assert suggest(headers) == [
        "full_name", "email", "phone", IGNORE, IGNORE, IGNORE, IGNORE, IGNORE, "card_number", "notes", "joined",
        "last_visit", "visits", "total_spent", "points",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["first_name", "last_name", "email", "billing_phone", "date_registered", "orders_count", "total_spent"],
         ["first_name", "last_name", "email", "phone", "joined", "visits", "total_spent"]),  # WooCommerce
        (["first_name", "last_name", "email", "mobile", "phone", "date_of_birth", "loyalty_balance", "customer_code",
          "customer_group"],
         ["first_name", "last_name", "email", "phone", IGNORE, "birthday", "points", "card_number", "tier"]),  # Lightspeed
        (["First name", "Last name", "Email", "Points balance", "VIP tier", "Date of birth"],
         ["first_name", "last_name", "email", "points", "tier", "birthday"]),  # Smile.io
        (["Name", "Mobile", "Stamps", "Rewards"], ["full_name", "phone", "stamps", IGNORE]),  # Stamp Me
        (["Guest Name", "Email", "Phone", "Visits", "Total Spend", "Last Visit"],
         ["full_name", "email", "phone", "visits", "total_spent", "last_visit"]),  # Toast
        (["Customer First Name", "Customer Last Name", "Phone Number", "Email Address", "Marketing Allowed",
          "Customer Since"],
         ["first_name", "last_name", "phone", "email", "consent", "joined"]),  # Clover
        (["Email Address", "First Name", "Last Name", "Phone Number", "Birthday", "TAGS", "OPTIN_TIME", "OPTIN_IP"],
         ["email", "first_name", "last_name", "phone", "birthday", "tags", "joined", IGNORE]),  # Mailchimp
        (["Name", "Email", "Phone", "Mobile", "Loyalty Points"],
         ["full_name", "email", "phone", IGNORE, "points"]),  # Odoo
    ],
)  # fmt: skip
def test_other_systems_exports(headers, expected):
    assert suggest(headers) == expected


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Nama", "full_name"), ("Nama pertama", "first_name"), ("Nama keluarga", "last_name"),
        ("Nama penuh", "full_name"), ("E-mel", "email"), ("Emel", "email"), ("Telefon", "phone"),
        ("No. telefon", "phone"), ("No. tel", "phone"), ("Tarikh lahir", "birthday"), ("Mata", "points"),
        ("Baki mata", "points"), ("Mata ganjaran", "points"), ("Setem", "stamps"), ("Peringkat", "tier"),
        ("Tahap", "tier"), ("Tarikh sertai", "joined"), ("Tarikh daftar", "joined"),
        ("Lawatan terakhir", "last_visit"), ("Jumlah belanja", "total_spent"),
        ("Jumlah perbelanjaan", "total_spent"), ("Bilangan lawatan", "visits"), ("Nota", "notes"),
        ("Catatan", "notes"), ("Tag", "tags"), ("No. kad", "card_number"), ("Bahasa", "language"),
    ],
)  # fmt: skip
def test_malay_headers(header, target):
    assert suggest([header]) == [target]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("ชื่อ", "full_name"), ("ชื่อจริง", "first_name"), ("นามสกุล", "last_name"), ("ชื่อ-นามสกุล", "full_name"),
        ("ชื่อ นามสกุล", "full_name"), ("ชื่อลูกค้า", "full_name"), ("อีเมล", "email"), ("โทรศัพท์", "phone"),
        ("เบอร์โทร", "phone"), ("เบอร์โทรศัพท์", "phone"), ("มือถือ", "phone"), ("วันเกิด", "birthday"),
        ("คะแนน", "points"), ("คะแนนสะสม", "points"), ("แต้ม", "points"), ("แต้มสะสม", "points"),
        ("ตราประทับ", "stamps"), ("แสตมป์", "stamps"), ("ระดับ", "tier"), ("ระดับสมาชิก", "tier"),
        ("วันที่สมัคร", "joined"), ("วันที่สมัครสมาชิก", "joined"), ("ใช้บริการล่าสุด", "last_visit"),
        ("เข้าร้านล่าสุด", "last_visit"), ("ยอดซื้อรวม", "total_spent"), ("ยอดใช้จ่ายรวม", "total_spent"),
        ("จำนวนครั้ง", "visits"), ("จำนวนครั้งที่มา", "visits"), ("หมายเหตุ", "notes"), ("แท็ก", "tags"),
        ("หมายเลขบัตร", "card_number"), ("เลขบัตรสมาชิก", "card_number"), ("ภาษา", "language"),
    ],
)  # fmt: skip
def test_thai_headers(header, target):
    assert suggest([header]) == [target]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Ім'я", "first_name"), ("Ім’я", "first_name"), ("Імʼя", "first_name"), ("Прізвище", "last_name"),
        ("ПІБ", "full_name"), ("Повне ім'я", "full_name"), ("Електронна пошта", "email"), ("Email", "email"),
        ("Ел. пошта", "email"), ("Телефон", "phone"), ("Мобільний", "phone"), ("Номер телефону", "phone"),
        ("Дата народження", "birthday"), ("Бали", "points"), ("Баланс балів", "points"), ("Бонуси", "points"),
        ("Штампи", "stamps"), ("Рівень", "tier"), ("Статус", IGNORE), ("Дата реєстрації", "joined"),
        ("Останній візит", "last_visit"), ("Остання покупка", "last_visit"), ("Сума покупок", "total_spent"),
        ("Кількість візитів", "visits"), ("Кількість покупок", "visits"), ("Примітки", "notes"),
        ("Коментар", "notes"), ("Теги", "tags"), ("Номер картки", "card_number"), ("Мова", "language"),
    ],
)  # fmt: skip
def test_ukrainian_headers(header, target):
    assert suggest([header]) == [target]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Keresztnév", "first_name"), ("Vezetéknév", "last_name"), ("Név", "full_name"), ("Teljes név", "full_name"),
        ("E-mail", "email"), ("E-mail cím", "email"), ("Telefon", "phone"), ("Telefonszám", "phone"),
        ("Mobil", "phone"), ("Születésnap", "birthday"), ("Születési dátum", "birthday"), ("Pontok", "points"),
        ("Pontegyenleg", "points"), ("Pecsétek", "stamps"), ("Szint", "tier"), ("Csatlakozás dátuma", "joined"),
        ("Regisztráció dátuma", "joined"), ("Utolsó látogatás", "last_visit"), ("Utolsó vásárlás", "last_visit"),
        ("Összes költés", "total_spent"), ("Vásárlások összege", "total_spent"), ("Látogatások száma", "visits"),
        ("Megjegyzés", "notes"), ("Címkék", "tags"), ("Kártyaszám", "card_number"), ("Nyelv", "language"),
        ("Hírlevél", "email_consent"), ("Keresztnev", "first_name"), ("Nev", "full_name"), ("NÉV", "full_name"),
    ],
)  # fmt: skip
def test_hungarian_headers(header, target):
    assert suggest([header]) == [target]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("customer", "full_name"), ("client", "full_name"), ("member", "full_name"), ("cell", "phone"),
        ("tel", "phone"), ("WhatsApp", "phone"), ("dob", "birthday"), ("birthdate", "birthday"), ("pts", "points"),
        ("balance", "points"), ("level", "tier"), ("status", IGNORE), ("member since", "joined"),
        ("signup date", "joined"), ("created at", "joined"), ("registered", "joined"),
        ("last purchase", "last_visit"), ("last order", "last_visit"), ("last seen", "last_visit"),
        ("spend", "total_spent"), ("lifetime value", "total_spent"), ("orders", "visits"), ("purchases", "visits"),
        ("visit count", "visits"), ("newsletter", "email_consent"), ("marketing", "consent"), ("opt in", "consent"),
        ("sms opt in", "sms_consent"), ("Email opt-in", "email_consent"), ("Marketing consent", "consent"),
        ("comments", "notes"), ("remarks", "notes"), ("labels", "tags"), ("segments", "tags"),
        ("card no", "card_number"), ("member number", "card_number"), ("loyalty number", "card_number"),
        ("barcode", "card_number"), ("locale", "language"), ("Stamp points", "stamps"), ("Rewards", IGNORE),
    ],
)  # fmt: skip
def test_generic_spreadsheet_words(header, target):
    assert suggest([header]) == [target]


@pytest.mark.parametrize("header", ["E-mail", "e_mail", "EMAIL", " Email: ", "EMAIL ADDRESS", "email-address"])
def test_punctuation_case_and_spaces_do_not_matter(header):
    assert suggest([header]) == ["email"]


@pytest.mark.parametrize(
    ("header", "target"),
    [("Customer mobile no.", "phone"), ("Date of Birth (dd/mm/yyyy)", "birthday"), ("Loyalty points earned", "points"),
     ("Email (optional)", "email"), ("Member tier name", "tier"), ("Billing Phone 2", "phone")],
)  # fmt: skip
def test_header_containing_a_keyword_is_matched(header, target):
    assert suggest([header]) == [target]


@pytest.mark.parametrize("header", ["Favourite colour", "Address", "Zip", "Gender", "", "   ", "123", "???"])
def test_unknown_header_is_ignored(header):
    assert suggest([header]) == [IGNORE]


def test_our_own_labels_map_back():
    assert suggest([str(label) for label in TARGETS.values()]) == list(TARGETS)


@pytest.mark.parametrize("language", ["ms", "th", "uk", "hu"])
def test_our_own_labels_in_each_language_map_back(language):
    with translation.override(language):
        headers = [str(label) for label in TARGETS.values()]
    assert suggest(headers) == list(TARGETS)


def test_second_column_with_the_same_target_is_ignored():
    assert suggest(["Phone", "Email", "Phone"]) == ["phone", "email", IGNORE]


def test_exact_match_wins_over_an_earlier_keyword_match():
    assert suggest(["Default Address Phone", "Phone"]) == [IGNORE, "phone"]


def test_bare_name_next_to_a_surname_is_the_first_name():
    assert suggest(["ชื่อ", "นามสกุล"]) == ["first_name", "last_name"]


def test_bare_name_alone_is_the_full_name():
    assert suggest(["Name", "Email"]) == ["full_name", "email"]


def test_target_choices_start_with_ignore_and_note_then_every_target():
    choices = target_choices()
    assert [key for key, _label in choices] == [IGNORE, NOTE, *TARGETS]
    assert choices[0][1] == "Don't import"
