"""Official Account permission sets (WeChat's funcscope_category ids), in merchants' words.

Source: the Open Platform's Official Account permission table (developers.weixin.qq.com; see
docs/WECHAT.md). Id 100 is in no public table, but WeChat lists it beside 2 on every user/tag
API page, so we name it after what it unlocks.
"""

from __future__ import annotations

from collections.abc import Iterable

OFFICIAL_ACCOUNT_PERMISSION_SETS: dict[int, str] = {
    1: "Message management",
    2: "User management",
    3: "Account services",
    4: "Web services",
    5: "WeChat Store",
    6: "Multi-agent customer service",
    7: "Mass messages and notifications",
    8: "Cards and offers",
    9: "Scan",
    10: "WeChat Wi-Fi",
    11: "Media library",
    12: "Shake nearby",
    13: "Stores",
    14: "WeChat Pay",
    15: "Custom menu",
    16: "Verification status",
    22: "City services",
    23: "Advertising",
    24: "Open Platform account binding",
    26: "E-invoices",
    27: "Fast Mini Program registration",
    33: "Mini Program linking",
    34: "Product library",
    44: "Good-things circle",
    46: "One item, one code",
    47: "Fiscal e-receipts",
    54: "Service Account conversations",
    66: "Service market",
    89: "Subscription notifications",
    100: "User management (new)",
    113: "Medical assistant",
    172: "Official Account message push",
}


def permission_set_name(set_id: int) -> str:
    return OFFICIAL_ACCOUNT_PERMISSION_SETS.get(set_id, f"Permission set {set_id}")


def permission_set_labels(set_ids: Iterable[int]) -> list[tuple[int, str]]:
    """(id, name) pairs in id order, for pages and the admin."""
    return [(i, permission_set_name(i)) for i in sorted(set(set_ids))]


def permission_sets_from_func_info(func_info: object) -> list[int]:
    """The ids in WeChat's func_info list, sorted; malformed entries are skipped."""
    ids: set[int] = set()
    for entry in func_info if isinstance(func_info, list) else []:
        category = entry.get("funcscope_category") if isinstance(entry, dict) else None
        set_id = category.get("id") if isinstance(category, dict) else None
        if isinstance(set_id, int) and not isinstance(set_id, bool):
            ids.add(set_id)
    return sorted(ids)
