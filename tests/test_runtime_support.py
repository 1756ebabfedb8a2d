"""The runtime helpers every generated module carries: particles, phone numbers,
durations in replies. The particle table is the one in docs/korean-text.md."""

from __future__ import annotations

import datetime as dt

import pytest

from compiler.runtime.support import PolicyInputError, format_phone, josa, whole_days, whole_hours

JOSA = [
    ("계좌번호", "은/는", "계좌번호는"), ("기사", "이/가", "기사가"), ("이름", "과/와", "이름과"),
    ("이용기록", "으로/로", "이용기록으로"), ("서울", "으로/로", "서울로"), ("물", "을/를", "물을"),
    ("0", "으로/로", "0으로"), ("1", "으로/로", "1로"), ("2", "은/는", "2는"), ("3", "이/가", "3이"),
    ("4", "으로/로", "4로"), ("5", "을/를", "5를"), ("6", "과/와", "6과"), ("7", "으로/로", "7로"),
    ("9", "이나/나", "9나"), ("10", "으로/로", "10으로"), ("100", "이/가", "100이"), ("1000", "을/를", "1000을"),
    ("10000", "이라고/라고", "10000이라고"), ("12가3456", "으로/로", "12가3456으로"),
    ("12가3457", "으로/로", "12가3457로"), ("123나4560", "은/는", "123나4560은"), ("L", "으로/로", "L로"),
    ("M", "으로/로", "M으로"), ("SUV", "이/가", "SUV가"), ("URL", "은/는", "URL은"), ("T펫", "으로/로", "T펫으로"),
    ("서울(본사)", "은/는", "서울(본사)은"), ("'KTX'", "이라고/라고", "'KTX'라고"),
    ("010-1234-5678", "은/는", "010-1234-5678은"), ("1551-5009", "으로/로", "1551-5009로"),
]


@pytest.mark.parametrize("word, particle, expected", JOSA)
def test_josa(word, particle, expected):
    assert josa(word, particle) == expected


def test_josa_rejects_empty_and_unknown():
    with pytest.raises(PolicyInputError):
        josa("", "은/는")
    with pytest.raises(PolicyInputError):
        josa("물", "은/은/는")


@pytest.mark.parametrize("raw, formatted", [
    ("01012345678", "010-1234-5678"), ("010 1234 5678", "010-1234-5678"), ("+82 10-1234-5678", "010-1234-5678"),
    ("011-123-4567", "011-123-4567"), ("0504-1234-5678", "0504-1234-5678"), ("050412345678", "0504-1234-5678"),
    ("02-123-4567", "02-123-4567"), ("031-1234-5678", "031-1234-5678"), ("1551-5009", "1551-5009"),
])
def test_phone(raw, formatted):
    assert format_phone("p", raw) == formatted


@pytest.mark.parametrize("raw", ["010-1234-567a", "12345", "", "+1 415 555 0100", "010-1234-56789-1", 1012345678])
def test_bad_phone(raw):
    with pytest.raises(PolicyInputError):
        format_phone("p", raw)


def test_days_and_hours():
    assert whole_days(dt.timedelta(days=14)) == 14
    assert str(whole_days(dt.timedelta(hours=84))) == "3.5"
    assert whole_hours(dt.timedelta(days=3)) == 72
    assert str(whole_hours(dt.timedelta(minutes=30))) == "0.5"
