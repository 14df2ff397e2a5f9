"""Made-up Malaysian customers for the demo shop: names, mobile numbers, emails, birthdays, codes.

Everything is derived from (seed, index), so any member can be rebuilt wherever it is needed (a
referral line names the other member) and numbers and codes are unique by construction: a seeder
writing 100,000 members cannot afford a lookup per code.
"""

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from members.models import CODE_ALPHABET

MALAY_MEN = [
    "Muhammad Haziq", "Ahmad Faris", "Mohd Amirul", "Muhammad Irfan", "Syafiq", "Hafiz", "Azlan",
    "Khairul Anuar", "Firdaus", "Zulkifli", "Faizal", "Hakim", "Danial", "Aiman", "Izzat", "Nazrin",
    "Shahrul Nizam", "Amir Hamzah", "Luqman", "Adam Iskandar",
]  # fmt: skip
MALAY_WOMEN = [
    "Nur Aisyah", "Siti Nurhaliza", "Nurul Izzah", "Farah Hanis", "Aina Sofea", "Nor Azlina",
    "Siti Khadijah", "Nurul Ain", "Sharifah Amira", "Zarina", "Nadia", "Hidayah", "Atiqah",
    "Syazwani", "Amirah", "Fatin Nabila", "Balqis", "Nur Iman",
]  # fmt: skip
MALAY_FATHERS = [
    "Abdullah", "Ismail", "Hassan", "Ibrahim", "Rahman", "Yusof", "Osman", "Ahmad", "Othman", "Razali",
    "Kamal", "Salleh", "Mansor", "Hamid", "Aziz", "Zakaria", "Mahmud", "Ramli", "Jamaluddin", "Sulaiman",
]  # fmt: skip
CHINESE_SURNAMES = [
    "Tan", "Lim", "Lee", "Ng", "Wong", "Chan", "Ong", "Teh", "Goh", "Chong", "Yap", "Low", "Chin", "Koh",
    "Leong", "Foo", "Cheah", "Khoo", "Lau", "Yeoh", "Liew", "Ho",
]  # fmt: skip
CHINESE_GIVEN = [
    "Wei Ling", "Chee Keong", "Mei Yee", "Kah Wai", "Jia Hui", "Soon Huat", "Li Ying", "Jun Hao", "Xin Yi",
    "Kok Leong", "Siew Mei", "Boon Hock", "Hui Min", "Zhi Wei", "Pei Shan", "Chun Kit", "Yong Sheng",
    "Shu Fen", "Kar Mun", "Wai Kit",
]  # fmt: skip
ENGLISH_GIVEN = ["Jason", "Michelle", "Kelvin", "Jasmine", "Eugene", "Vivian", "Alvin", "Rachel", "Darren", "Joanne"]
INDIAN_MEN = ["Suresh", "Rajesh", "Ganesh", "Arun", "Vikneswaran", "Thinesh", "Prakash", "Saravanan", "Muthu", "Kumar"]
INDIAN_WOMEN = ["Priya", "Kavitha", "Devi", "Shalini", "Thanusha", "Revathi", "Malini", "Sangeetha", "Nisha", "Anitha"]
INDIAN_FATHERS = [
    "Subramaniam", "Krishnan", "Muniandy", "Rajendran", "Govindasamy", "Arumugam", "Ramasamy", "Selvaraj",
    "Nair", "Pillai",
]  # fmt: skip
OTHER_GIVEN = ["Michael", "Jessica", "Daniel", "Grace", "Stephanie", "Joseph"]
OTHER_FAMILY = ["anak Jimbun", "anak Ngadan", "Fernandez", "De Souza", "Gomez", "Majinbon"]

# Reserved example domains (RFC 2606): the demo must never mail a real inbox, even if a
# developer points EMAIL_URL at a real server and the paid-tier reminder job runs.
EMAIL_DOMAINS = ["example.com"] * 7 + ["example.net"] * 2 + ["example.org"]

# Mobile prefixes whose every 7-digit subscriber number is valid (phonenumbers agrees): 012, 016, 019.
MOBILE_PREFIXES = ("12", "16", "19")
SUBSCRIBERS = 10**7
# Multiplying by a number coprime with the modulus is a bijection: distinct indexes, distinct results.
SCRAMBLE = 7_654_321


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    last_name: str
    phone: str
    email: str
    birthday: date | None
    language: str

    @property
    def name(self) -> str:
        """What str(member) shows, for reasons that name the member."""
        return f"{self.first_name} {self.last_name}".strip()


def person(seed: int, index: int) -> Person:
    """The index-th demo customer: about 55% Malay, 30% Chinese, 10% Indian, 5% others."""
    rng = random.Random(f"person:{seed}:{index}")  # noqa: S311 (made-up people, reproducible by design)
    roll, woman = rng.random(), rng.random() < 0.55  # laundromat regulars lean female
    language = ""
    if roll < 0.55:
        first = rng.choice(MALAY_WOMEN if woman else MALAY_MEN)
        last = f"{'binti' if woman else 'bin'} {rng.choice(MALAY_FATHERS)}"
        language = "ms" if rng.random() < 0.5 else ""
    elif roll < 0.85:
        first, last = rng.choice(CHINESE_GIVEN), rng.choice(CHINESE_SURNAMES)
        if rng.random() < 0.25:
            first = f"{rng.choice(ENGLISH_GIVEN)} {first}"
    elif roll < 0.95:
        first = rng.choice(INDIAN_WOMEN if woman else INDIAN_MEN)
        last = f"{'a/p' if woman else 'a/l'} {rng.choice(INDIAN_FATHERS)}"
    else:
        first, last = rng.choice(OTHER_GIVEN), rng.choice(OTHER_FAMILY)
    if not language and rng.random() < 0.3:
        language = "en"
    email = ""
    if rng.random() < 0.45:
        # Letters, then the index's digits: two members can never end up with the same address.
        local = ".".join(re.sub("[^a-z]", "", part) for part in (first.split()[0].lower(), last.split()[-1].lower()))
        email = f"{local}{index}@{rng.choice(EMAIL_DOMAINS)}"
    birthday = None
    if rng.random() < 0.85:
        year = min(max(int(rng.gauss(1988, 11)), 1950), 2008)
        birthday = date(year, 1, 1) + timedelta(days=rng.randrange(366 if year % 4 == 0 else 365))
    return Person(first, last, mobile_number(seed, index), email, birthday, language)


def mobile_number(seed: int, index: int) -> str:
    """A valid, unique Malaysian mobile number in E.164 (+6012 345 6789) for each index below 30 million."""
    prefix = MOBILE_PREFIXES[index % len(MOBILE_PREFIXES)]
    subscriber = (index // len(MOBILE_PREFIXES) * SCRAMBLE + seed * 104_729) % SUBSCRIBERS
    return f"+60{prefix}{subscriber:07d}"


def code(index: int, length: int, salt: int) -> str:
    """A unique code of `length` characters from the members' read-aloud alphabet for each index."""
    size = len(CODE_ALPHABET)
    n = (index * SCRAMBLE + salt) % size**length  # SCRAMBLE has no factor 5: coprime with 25**length
    chars = []
    for _position in range(length):
        n, digit = divmod(n, size)
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)
