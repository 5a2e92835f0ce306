"""Word lists the generator draws people, companies, titles and campaigns from."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark Ashley Paul "
    "Emily Steven Michelle Andrew Amanda Kenneth Melissa Joshua Deborah Kevin Stephanie Brian Rebecca "
    "George Laura Timothy Sharon Ronald Cynthia Jason Kathleen Ryan Amy Jacob Angela Gary Anna Nicholas "
    "Ruth Eric Brenda Jonathan Pamela Stephen Nicole Larry Katherine Justin Samantha Scott Christine "
    "Brandon Emma Benjamin Catherine Samuel Virginia Gregory Rachel Alexander Carolyn Patrick Janet Frank "
    "Maria Raymond Heather Jack Diane Dennis Julie Jerry Joyce Tyler Victoria Aaron Kelly Henrik Ingrid "
    "Sofia Lukas Amelie Noah Olivia Liam"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Schmidt Muller Larsen Dubois Jansen"
)
COMPANY_PREFIXES = _words(
    "Acme Globex Initech Umbrella Hooli Vandelay Soylent Cyberdyne Stark Wayne Tyrell Wonka Gringotts "
    "Oscorp Aperture Massive Dynamic Nakatomi Monarch Virtucon Northwind Contoso Fabrikam Litware Adatum "
    "Tailspin Wingtip Proseware Lucerne Fourth Coffee Blue Yonder Alpine Margie Trey Bluefin Redwood "
    "Ironbark Cobalt Juniper Lumen Quanta Vertex Helix Nimbus Orbit Pioneer Summit Harbor Beacon Cascade "
    "Evergreen Granite"
)
COMPANY_SUFFIXES = _words(
    "Systems Labs Analytics Logistics Health Cloud Works Group Dynamics Software Partners Networks"
)
STREET_TITLES = [
    "VP of Sales",
    "VP Marketing",
    "VP Engineering",
    "Director of IT",
    "Director of Operations",
    "Marketing Director",
    "Head of Growth",
    "Operations Manager",
    "Software Engineer",
    "Account Executive",
    "CFO",
    "Office Manager",
    "Student",
    "Consultant",
]
QUALIFIED_TITLES = STREET_TITLES[:6]
LOST_REASONS = ["No budget this year", "Chose a competitor", "No decision", "Bad timing", "Went dark"]
CAMPAIGNS = ["spring-webinar", "pricing-retargeting", "ebook-roi-guide", "q2-newsletter", "partner-referral"]
SOURCES = ["webinar", "website", "content", "paid_search", "event", "partner"]
