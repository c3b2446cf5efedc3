"""The translation catalogue and locale formats."""

from __future__ import annotations

import datetime as dt
import re
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custseg.errors import ParameterError
from custseg.i18n import CATALOGUE, LANGUAGES, Translator

NBSP, NNBSP = "\u00a0", "\u202f"

SEGMENTS = (
    "champions",
    "loyal_customers",
    "potential_loyalists",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
)
FINDINGS = (
    "missing_customer_id",
    "cancellation_lines",
    "negative_quantity",
    "zero_price",
    "negative_price",
    "bad_debt_adjustment",
    "exact_duplicates",
    "non_product_codes",
    "extreme_quantity",
    "extreme_order_value",
)


@pytest.fixture
def en():
    return Translator("en")


@pytest.fixture
def fr():
    return Translator("fr")


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# -- catalogue ---------------------------------------------------------------


def test_languages_have_exactly_the_same_keys():
    assert LANGUAGES == ("en", "fr")
    assert set(CATALOGUE) == set(LANGUAGES)
    only_en = set(CATALOGUE["en"]) - set(CATALOGUE["fr"])
    only_fr = set(CATALOGUE["fr"]) - set(CATALOGUE["en"])
    assert not only_en, f"missing in fr: {sorted(only_en)}"
    assert not only_fr, f"missing in en: {sorted(only_fr)}"


def test_templates_use_the_same_fields_in_both_languages():
    for key, template in CATALOGUE["en"].items():
        assert fields(template) == fields(CATALOGUE["fr"][key]), key
        assert template.strip(), key
        assert CATALOGUE["fr"][key].strip(), key


def test_every_segment_and_finding_has_name_description_and_action():
    for lang in LANGUAGES:
        tr = Translator(lang)
        for seg in SEGMENTS:
            for part in ("name", "description", "action"):
                assert tr.has(f"segment.{seg}.{part}"), (lang, seg, part)
        for finding in FINDINGS:
            assert tr.finding_name(finding)
            assert tr.finding_description(finding)
    fr = Translator("fr")
    assert fr.segment_name("cant_lose_them") == "À ne pas perdre"
    assert fr.segment_name("loyal_customers") == "Clients fidèles"
    assert Translator("en").segment_name("at_risk") == "At risk"
    assert fr.finding_name("zero_price") == "Prix unitaire nul"


# Identical in both languages on purpose: proper names, a word French shares with
# English, and templates made of fields only.
SAME_IN_BOTH = {
    "score.calinski_harabasz",  # Calinski-Harabasz index
    "score.davies_bouldin",  # Davies-Bouldin index
    "param.transform",  # "Transformation" is French too
    "features.skew_item",  # "{label} {value}"
}


def test_french_is_not_english():
    # headings, captions and actions are translated (names like "Champions" may match)
    same = [
        k
        for k, v in CATALOGUE["en"].items()
        if v == CATALOGUE["fr"][k]
        and not k.startswith("country.")
        and len(v) > 12
        and fields(v) != {"label", "unit"}
        and k not in SAME_IN_BOTH
    ]
    assert same == []


def test_every_label_the_pipeline_can_produce_is_in_the_catalogue():
    """Keys produced by other modules (names, levels, rules, stages) all have entries."""
    from custseg.audit import FINDING_KEYS
    from custseg.cleaning import RULE_TEXT
    from custseg.profiles import DEFAULT_NAMING_RULES, LEVELS, NOISE_RULE
    from custseg.rfm import DEFAULT_RULES

    stages = ("load", "audit", "clean", "features", "distributions", "k selection")
    stages += ("kmeans", "dbscan", "rfm", "profiles", "assemble", "total")
    for lang in LANGUAGES:
        tr = Translator(lang)
        for rule in (*DEFAULT_NAMING_RULES, NOISE_RULE):
            assert tr.has(f"cluster.{rule.key}.name"), (lang, rule.key)
            assert tr.has(f"cluster.{rule.key}.action"), (lang, rule.key)
        for dim in ("r", "f", "m"):
            for level in LEVELS:
                assert tr.has(f"level.{dim}.{level}"), (lang, dim, level)
        for rule in DEFAULT_RULES:
            assert tr.has(f"segment.{rule.key}.action"), (lang, rule.key)
        for key in FINDING_KEYS:
            assert tr.has(f"finding.{key}.name") and tr.has(f"finding.{key}.description"), key
        for key in RULE_TEXT:
            assert tr.has(f"clean.{key}.name") and tr.has(f"clean.{key}.description"), key
        for stage in stages:
            assert tr.has("stage." + stage.replace(" ", "_")), (lang, stage)
    fr = Translator("fr")
    assert fr.t("cluster.lapsed_low_spenders.name") == "Petits acheteurs perdus de vue"
    assert fr.t("level.f.top") == f"parmi les 10{NNBSP}% d’acheteurs les plus fréquents"


def test_french_typography():
    for key, text in CATALOGUE["fr"].items():
        # no ordinary space before : ; ! ? % » and none after «
        assert not re.search(r" [:;!?%»]", text), key
        assert "« " not in text, key
        assert "'" not in text, f"{key}: use the typographic apostrophe ’"
    fr = Translator("fr")
    assert fr.t("section.appendix.title") == f"Annexe{NBSP}: paramètres, versions, durées"
    assert f"«{NBSP}C{NBSP}»" in fr.t("finding.cancellation_lines.description")
    assert "é" in fr.t("section.data.title") and "’" in fr.t("kf.revenue")


def test_missing_key_and_unknown_language(en):
    with pytest.raises(KeyError, match="no 'en' translation"):
        en.t("no.such.key")
    # a finding added to the audit later shows by its key instead of breaking the report
    assert en.finding_name("new_finding") == "new_finding"
    assert en.finding_description("new_finding") == ""
    with pytest.raises(ParameterError, match="unknown report language 'de'"):
        Translator("de")


def test_templates_are_filled(en, fr):
    assert en.t("report.figure", n=3) == "Figure 3"
    assert fr.t("report.table", n=2) == "Tableau 2"
    assert en.variable("unit_price", log=True) == "Unit price (£, log scale)"
    assert fr.variable("recency") == "Récence (jours)"
    assert fr.country("United Kingdom") == "Royaume-Uni"
    assert en.country("EIRE") == "EIRE"
    assert fr.country("Atlantis") == "Atlantis"  # unknown names stay as in the data


# -- numbers --------------------------------------------------------------------


def test_number_formats(en, fr):
    assert en.number(1234567.891, 2) == "1,234,567.89"
    assert fr.number(1234567.891, 2) == f"1{NNBSP}234{NNBSP}567,89"
    assert en.number(999.5) == "1,000"  # half up, not half even
    assert en.number(2.5) == "3"
    assert en.number(-0.4) == "0"  # no "-0"
    assert en.number(-1234) == "-1,234"
    assert fr.number(0.125, 2) == "0,13"
    assert en.number(None) == "–" and en.number(float("nan")) == "–"
    assert en.number(np.int64(42)) == "42"


def test_money_formats(en, fr):
    assert en.money(1234.5) == "£1,234.50"
    assert fr.money(1234.5) == f"1{NNBSP}234,50{NBSP}£"
    assert fr.money(1234.5).replace(NNBSP, " ").replace(NBSP, " ") == "1 234,50 £"
    assert en.money(-5) == "-£5.00"
    assert fr.money(-5) == f"-5,00{NBSP}£"
    assert en.money(2.675) == "£2.68"
    assert en.money(-0.001) == "£0.00"
    assert en.money(9747747.93, 0) == "£9,747,748"
    assert en.money_compact(1_461_756) == "£1.5M"
    assert en.money_compact(850_000) == "£850k"
    assert en.money_compact(-896_812) == "-£897k"
    assert fr.money_compact(1_461_756) == f"1,5{NBSP}M£"
    assert fr.money_compact(2_000_000_000) == f"2{NBSP}Md£"
    assert en.money_compact(12.5) == "£13"
    assert en.money_compact(0.25) == "£0.25"


def test_plural_forms(en, fr):
    assert en.plural("unit.orders", 1) == "1 order"
    assert en.plural("unit.orders", 0) == "0 orders"
    assert en.plural("unit.days", 1.5, 1) == "1.5 days"
    assert en.plural("unit.days", 1.04, 1) == "1.0 days"  # rounds to 1.0, not exactly one
    assert fr.plural("unit.orders", 1) == "1 commande"
    assert fr.plural("unit.orders", 0) == "0 commande"  # French singular below 2
    assert fr.plural("unit.orders", 1.5, 1) == "1,5 commande"
    assert fr.plural("unit.days", 2) == "2 jours"
    assert fr.plural("unit.days", 1234) == f"1{NNBSP}234 jours"
    assert en.plural("unit.orders", None) == "– orders"


def test_percent_formats(en, fr):
    assert en.percent(0.125) == "12.5%"
    assert fr.percent(0.125) == f"12,5{NNBSP}%"
    assert en.percent(0.8201, 0) == "82%"
    assert en.percent(0) == "0.0%"
    assert en.percent(3 / 541_909) == "<0.1%"  # not a misleading 0.0%
    assert fr.percent(3 / 541_909) == f"<{NNBSP}0,1{NNBSP}%"
    assert en.seconds(0.4213) == "0.42 s" and fr.seconds(1.5) == "1,50 s"


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 3))
def test_number_round_trips_in_both_languages(x, decimals):
    en, fr = Translator("en"), Translator("fr")
    value = float(en.number(x, decimals).replace(",", ""))
    assert value == pytest.approx(x, abs=0.5 * 10**-decimals + 1e-6 * abs(x))
    assert fr.number(x, decimals).replace(NNBSP, "").replace(",", ".") == en.number(
        x, decimals
    ).replace(",", "")


# -- dates -------------------------------------------------------------------------


def test_date_formats(en, fr):
    assert en.date(dt.date(2011, 12, 9)) == "9 Dec 2011"
    assert fr.date(dt.date(2011, 12, 9)) == "9 déc. 2011"
    assert fr.date("2010-12-01T08:26:00") == "1er déc. 2010"
    assert en.date("2010-12-01T08:26:00") == "1 Dec 2010"
    assert fr.date(pd.Timestamp("2011-02-14 12:00")) == "14 févr. 2011"
    assert fr.date(np.datetime64("2011-08-03T10:00")) == "3 août 2011"
    assert en.date(dt.datetime(2011, 6, 30, 23, 59)) == "30 Jun 2011"
    assert en.month("2011-11") == "Nov 2011"
    assert fr.month("2011-07") == "juil. 2011"
    assert fr.month_short("2011-09") == "sept."
    assert fr.month("2011-02", long=True) == "février 2011"
    assert en.month(dt.date(2011, 11, 30), long=True) == "November 2011"


def test_bad_date_is_a_user_error(en):
    with pytest.raises(ParameterError, match="cannot read 'not a date' as a date"):
        en.date("not a date")
    with pytest.raises(ParameterError):
        en.date(12345)


def test_html_lang(en, fr):
    assert (en.html_lang, fr.html_lang) == ("en-GB", "fr-FR")
