"""What a column of an uploaded file can mean (its target), and a suggested target for each header.

Targets are fixed keys; their labels are what the owner sees on the mapping screen and what our own
member export writes as headers, so an exported file comes back in with every column mapped.
"""

import unicodedata
from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

IGNORE = ""  # the column is not imported
NOTE = "note"  # kept in the member's notes as "Header: value"

# Every target a column can be mapped to, in the order the mapping screen lists them.
TARGETS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "full_name": _("Full name"),
    "phone": _("Phone"),
    "email": _("Email"),
    "card_number": _("Card number"),
    "birthday": _("Birthday"),
    "language": _("Language"),
    "points": _("Points balance"),
    "stamps": _("Stamps"),
    "tier": _("Tier"),
    "joined": _("Joined"),
    "last_visit": _("Last visit"),
    "total_spent": _("Total spent"),
    "visits": _("Visits"),
    "email_consent": _("Email offers"),
    "sms_consent": _("SMS offers"),
    "consent": _("Offers by email and SMS"),
    "tags": _("Tags"),
    "notes": _("Notes"),
}

# Header words, as shops' POS, online shops and loyalty apps write them (Shopify, Square, Loyverse,
# WooCommerce, Lightspeed, Smile.io, Stamp Me, Toast, Clover, Mailchimp, Odoo, Zoho) and as people
# title a spreadsheet in our languages. Compared after normalising (see _normalise).
SYNONYMS = {
    "first_name": [
        "First name", "Firstname", "First", "Given name", "Forename", "fname", "Customer First Name",
        "billing_first_name", "Nama pertama", "Nama depan", "Nama awal", "ชื่อจริง", "ชื่อต้น", "Ім'я", "Имя",
        "Keresztnév", "Utónév",
    ],
    "last_name": [
        "Last name", "Lastname", "Surname", "Family name", "lname", "Customer Last Name", "billing_last_name",
        "Nama keluarga", "Nama akhir", "นามสกุล", "Прізвище", "Фамилия", "Vezetéknév", "Családnév",
    ],
    "full_name": [
        "Name", "Full name", "Fullname", "Customer name", "Customer", "Client", "Client name", "Member",
        "Member name", "Guest name", "Guest", "Contact", "Contact name", "Display name", "Nama", "Nama penuh",
        "Nama pelanggan", "Nama ahli", "ชื่อ", "ชื่อ-นามสกุล", "ชื่อลูกค้า", "ชื่อสมาชิก", "ПІБ", "Повне ім'я",
        "Ім'я та прізвище", "Ім'я клієнта", "Клієнт", "ФИО", "Név", "Teljes név", "Ügyfél neve", "Vásárló neve",
        "Ügyfél",
    ],
    "phone": [
        "Phone", "Phone number", "Phone no", "Telephone", "Tel", "Mobile", "Mobile number", "Mobile phone",
        "Cell", "Cell phone", "Handphone", "HP", "No HP", "WhatsApp", "WhatsApp number", "billing_phone",
        "Contact number", "Contact no", "Customer phone", "Telefon", "No. telefon", "No. tel", "Nombor telefon",
        "Telefon bimbit", "โทรศัพท์", "เบอร์โทร", "เบอร์โทรศัพท์", "เบอร์มือถือ", "มือถือ", "เบอร์", "Телефон",
        "Мобільний", "Мобільний телефон", "Номер телефону", "Telefonszám", "Mobil", "Mobilszám", "Mobiltelefon",
    ],
    "email": [
        "Email", "E-mail", "Email address", "Mail", "Customer email", "billing_email", "E-mel", "Emel",
        "Alamat e-mel", "อีเมล", "อีเมล์", "Електронна пошта", "Ел. пошта", "E-пошта", "Пошта",
        "Электронная почта", "E-mail cím",
    ],
    "card_number": [
        "Card number", "Card no", "Card", "Loyalty card", "Loyalty card number", "Loyalty number",
        "Member number", "Membership number", "Member no", "Membership no", "Barcode", "Customer code",
        "No. kad", "Nombor kad", "Kad ahli", "หมายเลขบัตร", "เลขบัตรสมาชิก", "เลขที่บัตร", "บัตรสมาชิก",
        "Номер картки", "Картка", "Номер карти", "Kártyaszám", "Kártya", "Törzsvásárlói kártya",
    ],
    "birthday": [
        "Birthday", "Birth date", "Birthdate", "Date of birth", "DOB", "Tarikh lahir", "Hari jadi", "วันเกิด",
        "วันเดือนปีเกิด", "Дата народження", "День народження", "Дата рождения", "Születésnap",
        "Születési dátum",
    ],
    "language": ["Language", "Preferred language", "Locale", "Lang", "Bahasa", "ภาษา", "Мова", "Язык", "Nyelv"],
    "points": [
        "Points", "Points balance", "Point balance", "Pts", "Balance", "Loyalty points", "Loyalty balance",
        "Reward points", "Current points", "Available points", "Mata", "Baki mata", "Mata ganjaran",
        "Mata terkumpul", "คะแนน", "คะแนนสะสม", "แต้ม", "แต้มสะสม", "Бали", "Баланс балів", "Бонуси",
        "Бонусні бали", "Баллы", "Pontok", "Pontegyenleg", "Pont", "Hűségpontok",
    ],
    "stamps": [
        "Stamps", "Stamp", "Stamp count", "Stamp points", "Points (stamps)", "Setem", "ตราประทับ", "แสตมป์",
        "Штампи", "Pecsétek", "Pecsét",
    ],
    "tier": [
        "Tier", "VIP tier", "Level", "Membership level", "Member level", "Loyalty tier", "Customer group",
        "Peringkat", "Tahap", "Tahap keahlian", "ระดับ", "ระดับสมาชิก", "Рівень", "Szint", "Tagsági szint",
    ],
    "joined": [
        "Joined", "Date joined", "Join date", "Member since", "Customer since", "Signup date", "Sign up date",
        "Signed up", "Created", "Created at", "Date created", "Registered", "Date registered",
        "Registration date", "First visit", "OPTIN_TIME", "Enrolled", "Tarikh sertai", "Tarikh daftar",
        "Tarikh menyertai", "Tarikh pendaftaran", "วันที่สมัคร", "วันที่สมัครสมาชิก", "วันสมัคร", "วันที่ลงทะเบียน",
        "Дата реєстрації", "Дата регистрации", "Csatlakozás dátuma", "Regisztráció dátuma", "Regisztráció",
    ],
    "last_visit": [
        "Last visit", "Last visited", "Last seen", "Last purchase", "Last order", "Last order date",
        "Last activity", "Last transaction", "Lawatan terakhir", "Pembelian terakhir", "ใช้บริการล่าสุด",
        "เข้าร้านล่าสุด", "ซื้อล่าสุด", "Останній візит", "Остання покупка", "Последний визит",
        "Utolsó látogatás", "Utolsó vásárlás",
    ],
    "total_spent": [
        "Total spent", "Total spend", "Spent", "Spend", "Amount spent", "Lifetime value", "Lifetime spend", "LTV",
        "Total sales", "Jumlah belanja", "Jumlah perbelanjaan", "Jumlah pembelian", "ยอดซื้อรวม", "ยอดใช้จ่ายรวม",
        "ยอดซื้อสะสม", "ยอดใช้จ่าย", "Сума покупок", "Загальна сума", "Сумма покупок", "Összes költés",
        "Vásárlások összege", "Elköltött összeg",
    ],
    "visits": [
        "Visits", "Total visits", "Visit count", "Number of visits", "Transaction count", "Transactions",
        "Total orders", "Orders", "orders_count", "Order count", "Number of orders", "Purchases",
        "Purchase count", "Bilangan lawatan", "Jumlah lawatan", "Lawatan", "Bilangan pembelian", "จำนวนครั้ง",
        "จำนวนครั้งที่มา", "จำนวนครั้งที่ใช้บริการ", "Кількість візитів", "Кількість покупок", "Візити",
        "Látogatások száma", "Látogatások", "Vásárlások száma",
    ],
    "email_consent": [
        "Accepts Email Marketing", "Accepts Marketing", "Email marketing", "Email opt-in", "Email subscribed",
        "Email Subscription Status", "Email consent", "Newsletter", "Subscribed to newsletter", "จดหมายข่าว",
        "Розсилка", "Hírlevél",
    ],
    "sms_consent": [
        "Accepts SMS Marketing", "SMS marketing", "SMS opt-in", "SMS subscribed", "SMS Subscription Status",
        "SMS consent",
    ],
    "consent": [
        "Marketing Allowed", "Marketing consent", "Marketing", "Opt in", "Opted in", "Consent", "Subscribed",
        "Persetujuan pemasaran", "ยินยอมรับข่าวสาร", "Згода на розсилку", "Marketing hozzájárulás",
    ],
    "tags": [
        "Tags", "Tag", "Labels", "Label", "Groups", "Group", "Segment", "Segments", "Customer tags", "แท็ก",
        "ป้ายกำกับ", "กลุ่ม", "Теги", "Мітки", "Групи", "Címkék", "Csoport",
    ],
    "notes": [
        "Notes", "Note", "Memo", "Comments", "Comment", "Remarks", "Remark", "Customer note", "Nota", "Catatan",
        "หมายเหตุ", "บันทึก", "Примітки", "Примітка", "Коментар", "Коментарі", "Megjegyzés", "Megjegyzések",
    ],
    # Known columns that only look like ours: an id is not a card number, "Rewards" counts what was redeemed.
    IGNORE: [
        "Reference ID", "ID", "Customer ID", "Square Customer ID", "Rewards", "Reward", "Status", "Статус",
        "Státusz", "สถานะ", "Nickname", "OPTIN_IP", "CONFIRM_IP",
    ],
}  # fmt: skip

# Words a header may contain, tried in this order when no synonym matches exactly: specific phrases
# ("email marketing") before the words inside them ("email"), "first visit" before "visit".
KEYWORDS = [
    ("joined", ["optintime"]),
    ("sms_consent", ["smsmarketing", "marketingsms", "smsoptin", "smsconsent", "smssubscri", "acceptssms"]),
    ("email_consent", [
        "emailmarketing", "marketingemail", "emailoptin", "emailconsent", "emailsubscri", "acceptsemail",
        "newsletter", "hirlevel", "จดหมายข่าว", "розсилк",
    ]),
    ("consent", ["marketing", "optin", "optedin", "consent", "persetujuan", "ยินยอม", "згода", "hozzajarul"]),
    ("full_name", [
        "ชื่อนามสกุล", "fullname", "customername", "clientname", "membername", "guestname", "contactname",
        "namapenuh", "teljesnev", "піб",
    ]),
    ("first_name", [
        "firstname", "givenname", "forename", "namapertama", "namadepan", "ชื่อจริง", "keresztnev", "utonev",
        "імя",
    ]),
    ("last_name", [
        "lastname", "surname", "familyname", "namakeluarga", "นามสกุล", "прізвищ", "vezeteknev", "csaladnev",
    ]),
    ("email", ["email", "emel", "อีเมล", "пошта", "почта"]),
    ("phone", ["phone", "mobil", "telefon", "телефон", "мобіл", "whatsapp", "เบอร์", "โทร", "มือถือ"]),
    ("birthday", ["birth", "dob", "bday", "lahir", "harijadi", "วันเกิด", "народж", "рожден", "szulet"]),
    ("language", ["language", "locale", "bahasa", "ภาษา", "мова", "язык", "nyelv"]),
    ("stamps", ["stamp", "setem", "ตราประทับ", "แสตมป์", "штамп", "pecset"]),
    ("points", ["point", "pts", "mata", "คะแนน", "แต้ม", "бал", "бонус", "pont", "balance", "egyenleg"]),
    ("card_number", [
        "card", "barcode", "loyaltynumber", "membernumber", "memberno", "membershipn", "customercode", "nokad",
        "บัตร", "картк", "kartya",
    ]),
    ("tier", ["tier", "level", "vip", "peringkat", "tahap", "ระดับ", "рівен", "уровен", "szint", "customergroup"]),
    ("joined", [
        "firstvisit", "since", "joined", "joindate", "signup", "signedup", "registered", "registration",
        "created", "enrol", "sertai", "daftar", "สมัคร", "ลงทะเบียน", "реєстрац", "регистрац", "csatlakoz",
        "regisztr",
    ]),
    ("last_visit", [
        "lastvisit", "lastseen", "lastpurchase", "lastorder", "lastactiv", "lasttransaction", "terakhir",
        "ล่าสุด", "останн", "последн", "utolso",
    ]),
    ("total_spent", [
        "spent", "spend", "lifetimevalue", "belanja", "ยอดซื้อ", "ยอดใช้จ่าย", "сумапокуп", "сума", "сумма",
        "витрач", "koltes", "osszeg",
    ]),
    ("visits", [
        "visit", "orders", "ordercount", "transaction", "purchases", "lawatan", "bilangan", "จำนวนครั้ง",
        "візит", "кількість", "latogatas", "szama",
    ]),
    ("tags", ["tag", "label", "group", "segment", "cimke", "แท็ก", "ป้ายกำกับ", "тег", "мітк", "груп", "csoport"]),
    ("notes", [
        "note", "memo", "comment", "remark", "nota", "catatan", "หมายเหตุ", "บันทึก", "примітк", "коментар",
        "комментар", "megjegyz",
    ]),
]  # fmt: skip

# A bare "Name" next to a "Surname" column holds the first name ("ชื่อ" + "นามสกุล", "Nama" + "Nama keluarga").
BARE_NAMES = ("Name", "Nama", "ชื่อ", "Név")

EXACT, CONTAINS = 2, 1  # how well a header matched, for deciding which header gets a target


def _normalise(header: str) -> str:
    """Case-folded letters and digits only, without accents on Latin and Cyrillic letters.

    "E-mail", "e_mail" and "EMAIL" are all "email", and Ukrainian names lose whichever apostrophe
    they were typed with; Thai vowel and tone marks are combining characters that carry meaning, so they stay.
    """
    kept = []
    base = ""
    for char in unicodedata.normalize("NFKD", header.casefold()):
        kind = unicodedata.category(char)
        if kind[0] == "M":
            if base < "\u0530":  # a mark on a Latin, Greek or Cyrillic letter is an accent
                continue
        elif kind[0] in "LN" and char != "\u02bc":  # the Ukrainian apostrophe U+02BC is a "letter"
            base = char
        else:
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


@cache
def _exact() -> dict[str, str]:
    table = {_normalise(word): target for target, words in SYNONYMS.items() for word in words}
    # Our own labels in every shipped language last, so a file this app exported maps back fully.
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            table.update({_normalise(str(label)): target for target, label in TARGETS.items()})
    return table


@cache
def _keywords() -> tuple[tuple[str, str], ...]:
    return tuple((_normalise(word), target) for target, words in KEYWORDS for word in words)


def _match(header: str) -> tuple[str, int]:
    normal = _normalise(header)
    if not normal:
        return IGNORE, 0
    if (target := _exact().get(normal)) is not None:
        return target, EXACT
    for word, target in _keywords():
        if word in normal:
            return target, CONTAINS
    return IGNORE, 0


def suggest(headers: list[str]) -> list[str]:
    """A target for each header (or IGNORE); each target once, to the best-matching, then leftmost, header."""
    matches = [_match(header) for header in headers]
    suggested = [IGNORE] * len(headers)
    taken: set[str] = set()
    for index in sorted(range(len(headers)), key=lambda i: -matches[i][1]):  # stable: ties keep column order
        target, _quality = matches[index]
        if target != IGNORE and target not in taken:
            taken.add(target)
            suggested[index] = target
    if "last_name" in taken and "first_name" not in taken and "full_name" in taken:
        index = suggested.index("full_name")
        if _normalise(headers[index]) in {_normalise(name) for name in BARE_NAMES}:
            suggested[index] = "first_name"
    return suggested


def target_choices() -> list[tuple[str, str]]:
    """The mapping form's choices, in the language of the request."""
    return [
        (IGNORE, gettext("Don't import")),
        (NOTE, gettext("Keep in the member's notes")),
        *((key, str(label)) for key, label in TARGETS.items()),
    ]
