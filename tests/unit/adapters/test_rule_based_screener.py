"""The built-in screener: block lists in Latin, Arabic and Devanagari scripts with their
usual disguises, personal data (phones local and international, emails, links, payment
handles), and no false alarms on ordinary sentences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.screening.rule_based import BlockLists, RuleBasedScreener, fold, tokens

SCREENER = RuleBasedScreener(BlockLists.load())


def category(text: str, language: str | None = None) -> str | None:
    return SCREENER.check(text, language=language).category


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # Latin script, with the usual disguises
        ("you are a bitch", "en"),
        ("YOU ARE A BITCH", "en"),
        ("what the fück", "en"),  # accents dropped
        ("sh1t happens", "en"),  # digits as letters
        ("f u c k this", "en"),  # spread out
        ("f.u.c.k this", "en"),
        ("fuuuuck", "en"),  # stretched
        ("ｆｕｃｋ", "en"),  # full-width letters
        ("fu\u200bck", "en"),  # a zero-width space inside
        ("son of a bitch", "en"),  # a phrase
        ("she be ashawo", "pcm"),
        ("aṣẹ́wó ni", "yo"),  # Yoruba tone marks dropped
        ("dan iska", "ha"),
        # Arabic script: vowel marks, tatweel and letter variants folded
        ("انت شرموطة", "ar"),
        ("انت شَرْمُوطَة", "ar"),
        ("انت شرمـــوطة", "ar"),
        ("يا ابن الكلب", "ar"),
        # Devanagari script, with and without the nukta
        ("तुम चूतिया हो", "hi"),
        ("भोसड़ी के", "hi"),
        ("भोसडी के", "hi"),
        ("tu chutiya hai", "hi"),
        # Slurs are refused whatever the language
        ("nigger", "yo"),
    ],
)
def test_block_listed_words_in_three_scripts(text: str, language: str) -> None:
    assert category(text, language) == "blocked_word"


@pytest.mark.parametrize(
    "text",
    [
        "Call me on 0803 123 4567",  # Nigerian local
        "08031234567",
        "+234 803 123 4567",  # international
        "+2348031234567",
        "00234-803-123-4567",
        "ring (020) 7946 0958",  # London, local
        "+44 20 7946 0958",
        "0712 345 678",  # Kenyan local
        "+254 712 345678",
        "call ٠٨٠٣١٢٣٤٥٦٧",  # Arabic-Indic digits
        "फ़ोन ०८०३१२३४५६७",  # Devanagari digits
    ],
)
def test_phone_numbers_local_and_international(text: str) -> None:
    assert category(text) == "phone_number"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ada@example.com", "email"),
        ("Ada.Lovelace+chorus@mail.example.co.uk", "email"),
        ("ada at gmail dot com", "email"),
        ("ada [at] gmail [dot] com", "email"),
        ("see https://bit.ly/xyz", "url"),
        ("www.example.org", "url"),
        ("join wa.me/2348031234567", "url"),
        ("mysite dot com", "url"),
        ("send to $AdaCash", "payment_handle"),
        ("paypal.me/ada", "payment_handle"),
        ("opay 8031234", "payment_handle"),
        ("M-Pesa till number 123456", "payment_handle"),
        ("venmo @ada-l", "payment_handle"),
        ("acct no: 0123456789", "payment_handle"),
    ],
)
def test_emails_links_and_payment_handles(text: str, expected: str) -> None:
    assert category(text) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ẹ káàárọ̀, ṣé dáadáa ni?", "yo"),
        ("The class passed the assessment in Scunthorpe", "en"),
        ("I have 3 sisters and 2 brothers", "en"),
        ("It costs 1,500 naira", "en"),
        ("See you at 10.30 tomorrow", "en"),
        ("مرحبا كيف حالك", "ar"),
        ("आप कैसे हैं", "hi"),
        ("Habari ya asubuhi", "sw"),
        ("Ina kwana", "ha"),
        ("e.g. this one, i.e. that one", "en"),
        ("I am a teacher", "en"),
    ],
)
def test_ordinary_sentences_pass(text: str, language: str) -> None:
    assert category(text, language) is None


def test_lists_apply_per_language_and_all_of_them_when_unknown() -> None:
    # 'malaya' is a Swahili insult; in other languages it is not on any list.
    assert category("wewe ni malaya", "sw") == "blocked_word"
    assert category("wewe ni malaya", "en") is None
    assert category("wewe ni malaya", "sw-KE") == "blocked_word"
    assert category("wewe ni malaya", None) == "blocked_word"  # display names: every list


def test_operators_bring_their_own_list(tmp_path: Path) -> None:
    custom = tmp_path / "lists.json"
    custom.write_text(json.dumps({"_about": "ours", "en": ["bananas"]}), encoding="utf-8")
    screener = RuleBasedScreener(BlockLists.load(custom))
    assert screener.check("I like BANANAS", language="en").category == "blocked_word"
    assert screener.check("you are a bitch", language="en").category is None
    custom.write_text(json.dumps({"en": "not a list"}), encoding="utf-8")
    with pytest.raises(ValueError, match="maps language codes"):
        BlockLists.load(custom)


def test_folding_and_tokens() -> None:
    assert fold("ÉCOLE") == "ecole"
    assert fold("أحمد") == "احمد"
    assert tokens("f . u . c . k you") == ["fuck", "you"]
    assert tokens("I am ok") == ["i", "am", "ok"]


async def test_the_port_answers_like_the_check() -> None:
    verdict = await SCREENER.screen("call 08031234567", language="en")
    assert (verdict.allowed, verdict.category, verdict.source.value) == (
        False, "phone_number", "rules"
    )  # fmt: skip


@given(st.text(max_size=300), st.sampled_from([None, "en", "yo", "ar", "hi", "xx"]))
def test_any_text_gets_a_verdict(text: str, language: str | None) -> None:
    verdict = SCREENER.check(text, language=language)
    assert verdict.category in {
        None, "blocked_word", "phone_number", "email", "url", "payment_handle"
    }  # fmt: skip


@given(st.text(max_size=100))
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
