"""The guard's matching and the scripts' files and placeholders, as plain code (no UI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import ConfigError, load_settings
from console.guard import Guard, refusal
from console.scripts import (
    EXAMPLE_SCRIPTS,
    Script,
    ScriptsError,
    account_file,
    fill,
    global_file,
    load_scripts,
    parse_scripts,
    save_script,
)

GUARD = Guard.of(["paypal", "cash app"], ["meet up"], [r"\b\d{3}[-. ]\d{4}\b"], no_links=True)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("send it to PayPal now", "PayPal"),
        ("ｐａｙｐａｌ", "ｐａｙｐａｌ"),  # fullwidth (NFKC)
        ("𝐩𝐚𝐲𝐩𝐚𝐥 me", "𝐩𝐚𝐲𝐩𝐚𝐥"),  # mathematical bold (NFKC)
        ("раураl", "раураl"),  # Cyrillic look-alikes
        ("pay\u200bpal", "pay\u200bpal"),  # a zero-width space inside
        ("PAYPAL", "PAYPAL"),
        ("my CASH APP", "CASH APP"),
        ("let's meet\n  up", "meet\n  up"),
        ("call 555-1234", "555-1234"),
        ("https://example.org/x", "https://example.org/x"),
        ("find me on mysite.com", "mysite.com"),
        ("mysite dot com", "mysite dot com"),
    ],
)
def test_the_guard_finds_rules_and_look_alikes_where_they_are(text: str, found: str) -> None:
    hits = GUARD.check(text)
    assert hits, text
    assert text[hits[0].start : hits[0].end] == found


@pytest.mark.parametrize(
    "text", ["paypals are not a word", "hello there", "e.g. this", "meetup", "5551234567", ""]
)
def test_the_guard_lets_clean_text_go(text: str) -> None:
    assert Guard.of(["paypal"], ["meet up"]).check(text) == []


def test_refusal_names_the_rule_and_what_matched() -> None:
    text = "pay me on ｐａｙｐａｌ or www.x.com"
    message = refusal(GUARD.check(text), text)
    assert "“paypal”" in message and "ｐａｙｐａｌ" in message and "1 more" in message


def test_guard_config_per_account_and_bad_pattern_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[guard]\nwords = ["paypal"]\nno_links = true\n'
        '[guard.accounts.acc_b]\nwords = ["venmo"]\nno_links = false\n',
        encoding="utf-8",
    )
    guard = load_settings(path).guard
    assert guard.for_account("acc_a").check("www.x.com") and not guard.for_account("acc_a").check(
        "venmo"
    )
    b = guard.for_account("acc_b")
    assert b.check("venmo") and b.check("paypal") and not b.check("www.x.com")
    path.write_text('[guard]\nwords = ["x"]\npatterns = ["(unclosed"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as problem:
        load_settings(path)
    assert f"{path}, line 3" in str(problem.value) and "regular expression" in str(problem.value)


def test_fill_placeholders_unknown_left_out_and_missing_named() -> None:
    values = {"name": "Alex", "username": "alex99", "tier": "", "spend": "$12.00"}
    filled = fill("Hi {name} @{username} {tier}{nope} {{literal}} {spend}", values)
    assert filled.text == "Hi Alex @alex99  {literal} $12.00"
    assert filled.unknown == ("{nope}",) and filled.missing == ("tier",)
    assert [filled.text[a:b] for a, b in filled.spans] == ["Alex", "alex99", "", "$12.00"]


def test_scripts_files_account_first_then_global_else_examples(tmp_path: Path) -> None:
    assert [s.scope for s in load_scripts(tmp_path, "acc")] == ["example"] * len(
        parse_scripts(EXAMPLE_SCRIPTS, "x", "example")
    )
    global_file(tmp_path).write_text('[[script]]\nname = "G"\ntext = "global"\n', encoding="utf-8")
    save_script(
        account_file(tmp_path, "acc/../x"),
        Script("Mine", 'line one\n"quoted" \\ {name}', ("m1", "m2"), 15.0),
    )
    assert account_file(tmp_path, "acc/../x").parent == tmp_path / "scripts"
    scripts = load_scripts(tmp_path, "acc/../x")
    assert [(s.name, s.scope) for s in scripts] == [("Mine", "account"), ("G", "global")]
    assert scripts[0].text == 'line one\n"quoted" \\ {name}'
    assert scripts[0].media == ("m1", "m2") and scripts[0].price_dollars == 15.0


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('[[script]]\nname = "x"\n', "'text' must be"),
        ('[[script]]\nname = "x"\ntext = "t"\nprice = 900\nmedia = ["m"]\n', "between $1"),
        ('[[script]]\nname = "x"\ntext = "t"\nprice = 9\n', "needs 'media'"),
        ('[[script]]\nname = "x"\ntext = "t"\ncolour = 1\n', "unknown key 'colour'"),
        ("[[script]\n", "Expected"),
    ],
)
def test_a_bad_scripts_file_names_itself(tmp_path: Path, body: str, problem: str) -> None:
    global_file(tmp_path).write_text(body, encoding="utf-8")
    with pytest.raises(ScriptsError) as error:
        load_scripts(tmp_path, "acc")
    assert str(global_file(tmp_path)) in str(error.value) and problem in str(error.value)


def test_fuzzy_filter_agrees_with_a_plain_reading_as_you_type() -> None:
    """Typed one key at a time (narrowing the last matches) or all at once, the filter finds
    exactly the items whose text holds every word as a substring or a subsequence, substrings
    first, each group in list order."""
    import random

    from console.tui.fuzzy import FuzzyIndex

    rng = random.Random(15)
    words = ["beach set", "sunset", "red dress", "vlog", "dance", "golden hour", "voice note"]
    texts = [f"{rng.choice(words)} {n} {rng.choice(['photo', 'video'])}" for n in range(400)]

    def subsequence(word: str, text: str) -> bool:
        it = iter(text)
        return all(ch in it for ch in word)

    def expected(query: str) -> list[int]:
        parts = query.casefold().split()
        found = [i for i, t in enumerate(texts) if all(subsequence(w, t) for w in parts)]
        exact = [i for i in found if all(w in texts[i] for w in parts)]
        return exact + [i for i in found if i not in exact]

    typed = FuzzyIndex(texts)
    for _ in range(300):
        query = "".join(rng.choice("abdeghilnorstuv 0123") for _ in range(rng.randint(1, 6)))
        for end in range(1, len(query) + 1):
            assert typed.filter(query[:end]) == expected(query[:end]), query[:end]
        assert FuzzyIndex(texts).filter(query) == expected(query)
        typed.filter("")
