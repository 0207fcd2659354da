"""中小企业数字化水平评测 (2024年版): the index data, scoring, the level rule, display rounding, answer
validation and the loader's checks (zsdx/assessment.py, zsdx/data/eval_index_2024.yaml). No app needed.

Source of truth: /work/shared/spec/eval-index-2024.md. The worked example is the user manual's result screen
(section 03): 49.34 = 数字化基础 25.46 + 数字化管理 13.88 + 数字化成效 10, 16 scenarios built of which 10
约束性, overall 二级（规范级）."""

import copy
import json
from fractions import Fraction

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zsdx.assessment import (
    DEFAULT_PATH,
    IndexDataError,
    build_index,
    count_scenarios,
    determine_level,
    fmt2,
    get_index,
    load_index,
    rate_band,
    rate_percent,
    score,
    validate,
)

INDEX = get_index()
QIDS = [f"Q{n}" for n in range(1, 16)]
SIDS = [f"S{n}" for n in range(1, 17)]
SCENARIO_NAMES = [
    "产品设计",
    "工艺设计",
    "营销管理",
    "售后服务",
    "计划排程",
    "生产管控",
    "质量管理",
    "设备管理",
    "安全生产",
    "能耗管理",
    "采购管理",
    "仓储物流",
    "财务管理",
    "人力资源",
    "协同办公",
    "决策支持",
]
CONSTRAINT_NAMES = {
    "产品设计",
    "营销管理",
    "生产管控",
    "质量管理",
    "设备管理",
    "安全生产",
    "能耗管理",
    "采购管理",
    "仓储物流",
    "财务管理",
}
CONSTRAINT = [s.id for s in INDEX.scenarios if s.constraint]
GUIDANCE = [s.id for s in INDEX.scenarios if not s.constraint]


def raw_data():
    with open(DEFAULT_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


RAW = raw_data()


# ------------------------------------------------------------------------------------------------------
# Answer builders
# ------------------------------------------------------------------------------------------------------


def zero_choice(q):
    """The 0-point answer: 无 for multi, the 0-point option for single."""
    if q.multi:
        return [q.exclusive_keys[0]]
    return next(o.key for o in q.options if o.points == 0)


def top_choice(q):
    if q.multi:
        return [o.key for o in q.options if not o.exclusive]
    return max(q.options, key=lambda o: o.points).key


def answers(questions=None, scenarios=None, fields=None, base="zero"):
    """A complete answer set: every question at 0 points (base="zero") or full points (base="top"),
    overridden by `questions`; scenarios default to 0 (无等级)."""
    pick = zero_choice if base == "zero" else top_choice
    qs = {q.id: pick(q) for q in INDEX.questions}
    qs.update(questions or {})
    sc = {sid: 0 for sid in SIDS}
    sc.update(scenarios or {})
    return {"questions": qs, "fields": dict(fields or {}), "scenarios": sc}


def scenario_levels(level, total, constraint, rest=0, demoted=()):
    """`constraint` constraint scenarios and `total - constraint` others at `level`; `demoted` ids at
    level - 1; everything else at `rest`."""
    out = {sid: rest for sid in SIDS}
    for sid in CONSTRAINT[:constraint] + GUIDANCE[: total - constraint]:
        out[sid] = level
    for sid in demoted:
        out[sid] = level - 1
    return out


# The manual's example. Foundation 25.46 needs Q4 at 10/14 per item (spec §3.2); two of the 418
# combinations: the spec's own (0 + 0 + 6 + 1 item + 10 + 3.75 + 5) and a more typical firm's.
MANUAL_FOUNDATION_SPEC = {
    "Q1": ["A"],
    "Q2": "A",
    "Q3": "E",
    "Q4": ["B"],
    "Q5": "E",
    "Q6": ["B", "C", "D"],
    "Q7": ["B", "C", "D", "E"],
}
MANUAL_FOUNDATION_TYPICAL = {
    "Q1": ["B", "C"],
    "Q2": "B",
    "Q3": "C",
    "Q4": ["B", "C", "D", "E", "F", "G", "H", "I"],
    "Q5": "C",
    "Q6": ["B", "C"],
    "Q7": ["B", "C", "D"],
}
# 管理 3 + 5.625 + 1.5 + 3.75 = 13.875; 成效 3.5 + 3.5 + 3 + 0 = 10.
MANUAL_MANAGEMENT = {"Q8": "C", "Q9": ["B", "C", "D"], "Q10": ["B"], "Q11": "C"}
MANUAL_OUTCOME = {"Q12": "B", "Q13": "B", "Q14": "C", "Q15": "A"}
# All 16 built (≥ 一级), 10 of them constraint; 6 at 二级 of which 4 constraint.
MANUAL_SCENARIOS = {sid: 1 for sid in SIDS} | {"S1": 2, "S3": 2, "S6": 2, "S7": 2, "S2": 2, "S5": 2}
MANUAL_SUMMARY = (
    "本次数字化基础、管理和成效三个维度评分结果为49.34分，其中数字化基础得分为25.46分，数字化管理得分为13.88分，"
    "数字化成效得分为10分。本次应用场景评测分析围绕企业数字化经营方面的16个应用场景展开，企业共建设16个应用场景，"
    "其中约束性场景10个，整体评测处于二级水平。"
)


def manual_answers(foundation, fields):
    return answers({**foundation, **MANUAL_MANAGEMENT, **MANUAL_OUTCOME}, MANUAL_SCENARIOS, fields)


# ------------------------------------------------------------------------------------------------------
# The data
# ------------------------------------------------------------------------------------------------------


def test_structure_matches_the_spec():
    assert INDEX.version == "2024"
    assert [(d.name, d.max) for d in INDEX.dimensions] == [("数字化基础", 50), ("数字化管理", 30), ("数字化成效", 20)]
    assert [q.id for q in INDEX.questions] == QIDS
    assert [q.number for q in INDEX.questions] == list(range(1, 16))
    assert [[q.id for q in d.questions] for d in INDEX.dimensions] == [QIDS[:7], QIDS[7:11], QIDS[11:]]
    assert [q.max for q in INDEX.questions] == [
        8,
        6,
        6,
        10,
        10,
        5,
        5,
        Fraction(15, 2),
        Fraction(15, 2),
        Fraction(15, 2),
        Fraction(15, 2),
        7,
        7,
        3,
        3,
    ]
    multi = {q.id for q in INDEX.questions if q.multi}
    assert multi == {"Q1", "Q4", "Q6", "Q7", "Q9", "Q10"}
    assert INDEX.question("Q1").title == "企业网络建设连接情况"
    assert INDEX.question("Q1").manual_title == "企业网络连接情况"


def test_q4_is_ten_fourteenths_per_item_and_the_none_options_are_exclusive():
    q4 = INDEX.question("Q4")
    items = [o for o in q4.options if not o.exclusive]
    assert len(items) == 14 and all(o.points == Fraction(10, 14) for o in items)
    assert [o.text for o in items] == [n for n in SCENARIO_NAMES if n not in ("协同办公", "决策支持")]
    for q in INDEX.questions:
        for o in q.options:
            assert o.exclusive == (o.text == "无"), (q.id, o.key)


def test_q8_f_uses_the_platform_text_and_records_the_conflict():
    f = INDEX.question("Q8").option("F")
    assert f.points == Fraction(15, 2)
    assert f.text == "定期组织员工去数字化建设成效较好的同行业公司参观交流，增强数字化转型意识"
    assert "已经能够输出数字化转型成果或经验供同行借鉴" in f.note


def test_form_fields_and_rate_bands():
    assert [f.ref for f in INDEX.question("Q2").form_fields] == ["Q2.total", "Q2.digital"]
    assert [f.name for f in INDEX.question("Q2").form_fields] == ["生产设备数量", "实现数字化的生产设备数量"]
    assert [f.ref for f in INDEX.question("Q3").form_fields] == ["Q3.networked"]
    assert INDEX.question("Q3").uses_fields == ("Q2.total",)
    rb2, rb3 = INDEX.question("Q2").rate_band, INDEX.question("Q3").rate_band
    assert (rb2.numerator, rb2.denominator) == ("Q2.digital", "Q2.total")
    assert (rb3.numerator, rb3.denominator) == ("Q3.networked", "Q2.total")
    assert [(b.option, b.interval) for b in rb2.bands] == [
        ("A", "[0,10]"),
        ("B", "(10,20]"),
        ("C", "(20,40]"),
        ("D", "(40,60]"),
        ("E", "(60,100]"),
    ]
    assert json.loads(json.dumps(rb3.as_dict()))["bands"][1] == {
        "option": "B",
        "interval": "(10,20]",
        "low": 10,
        "high": 20,
        "low_closed": False,
        "high_closed": True,
    }
    counts = {q.id: len(q.form_fields) for q in INDEX.questions if q.form_fields}
    assert counts == {"Q2": 2, "Q3": 1, "Q11": 1, "Q12": 2, "Q13": 1, "Q14": 4, "Q15": 2}


def test_scenarios_constraints_and_levels():
    assert [s.id for s in INDEX.scenarios] == SIDS
    assert [s.name for s in INDEX.scenarios] == SCENARIO_NAMES
    assert {s.name for s in INDEX.scenarios if s.constraint} == CONSTRAINT_NAMES
    assert INDEX.scenario("S3").aliases == ("销售管理",)
    assert INDEX.scenario("S14").aliases == ("人力资源管理",)
    assert all(len(s.levels) == 4 for s in INDEX.scenarios)
    assert INDEX.scenario("S15").levels[0].startswith("应用信息技术工具（如电子邮件")
    assert [g for g in INDEX.scenario_groups] == [
        "产品生命周期数字化",
        "生产执行数字化",
        "供应链数字化",
        "管理决策数字化",
    ]
    assert dict(INDEX.level_names) == {
        0: "未达一级",
        1: "一级（规划级）",
        2: "二级（规范级）",
        3: "三级（集成级）",
        4: "四级（协同级）",
    }
    assert [(r.level, r.min_score, r.min_scenarios, r.min_constraint_scenarios) for r in INDEX.rules] == [
        (4, 80, 10, 6),
        (3, 60, 8, 5),
        (2, 40, 6, 3),
        (1, 20, 6, 3),
    ]
    assert INDEX.scenario_prompt(INDEX.scenario("S15")) == "【协同办公】为非约束性场景，请选择已满足的等级"
    assert INDEX.scenario_prompt(INDEX.scenario("S1")) == "【产品设计】为约束性场景，请选择已满足的等级"


def _texts(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def test_no_text_of_the_index_is_an_elided_placeholder():
    """Users read these texts: an elision such as 营销管理 level 3's former （…） must be the full wording."""
    elided = [t for t in _texts(RAW) if "…" in t or "..." in t]
    assert elided == []
    assert (
        INDEX.scenario("S3")
        .levels[2]
        .startswith(
            "基于销售信息化系统实现对营销信息（如销售计划、销售订单、销售运行、客户信息或销售业绩等）的实时管控"
        )
    )


def test_load_index_is_cached_per_path():
    assert load_index() is get_index() is load_index(DEFAULT_PATH)


# ------------------------------------------------------------------------------------------------------
# (a) The manual's example
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "foundation, fields",
    [
        (MANUAL_FOUNDATION_SPEC, {"Q2.total": 50, "Q2.digital": 5, "Q3.networked": 40}),
        (MANUAL_FOUNDATION_TYPICAL, {"Q2.total": 120, "Q2.digital": 18, "Q3.networked": 36}),
    ],
    ids=["spec-combination", "typical-firm"],
)
def test_manual_example(foundation, fields):
    ans = manual_answers(foundation, fields)
    assert validate(ans) == {}
    r = score(ans)
    assert r.dimension_scores_exact == {
        "foundation": Fraction(713, 28),
        "management": Fraction(111, 8),
        "outcome": Fraction(10),
    }
    assert [fmt2(r.dimension_scores[k]) for k in ("foundation", "management", "outcome")] == ["25.46", "13.88", "10.00"]
    assert fmt2(r.dimension_scores["outcome"], trim=True) == "10"  # as the manual's screen shows it
    assert r.dimension_scores["management"] == 13.875
    assert r.total == pytest.approx(49.339285714285715, abs=1e-12)
    assert r.total_exact == Fraction(713, 28) + Fraction(111, 8) + 10
    assert fmt2(r.total) == fmt2(r.total_exact) == r.display(r.total) == "49.34"
    assert r.question_points["Q4"] == Fraction(10, 14) * len(foundation["Q4"])
    assert (r.level, r.level_name, r.level_short) == (2, "二级（规范级）", "二级")
    assert (r.scenarios_built, r.constraint_built) == (16, 10)
    assert r.counts_at_level == {1: (16, 10), 2: (6, 4), 3: (0, 0), 4: (0, 0)}
    assert r.summary() == MANUAL_SUMMARY
    assert r.to_dict()["total_display"] == "49.34"


def test_manual_foundation_is_not_reachable_with_the_platform_q4_split():
    """Spec §3.2: with 0.7 × 13 + 0.9 no answer set displays 25.46; 10/14 per item is the reading that fits."""
    reachable = {Fraction(0)}
    for q in INDEX.dimension("foundation").questions:
        if q.id == "Q4":
            items = [Fraction(7, 10)] * 13 + [Fraction(9, 10)]
            sums = {Fraction(0)}
            for p in items:
                sums |= {s + p for s in sums}
        elif q.multi:
            items = [o.points for o in q.options if not o.exclusive]
            sums = {Fraction(0)}
            for p in items:
                sums |= {s + p for s in sums}
        else:
            sums = {o.points for o in q.options}
        reachable = {a + b for a in reachable for b in sums}
    assert not any(fmt2(x) == "25.46" for x in reachable)


# ------------------------------------------------------------------------------------------------------
# (b) The level rule at its boundaries
# ------------------------------------------------------------------------------------------------------

ALL_AT_FOUR = {sid: 4 for sid in SIDS}
TOTAL_20 = {"Q1": ["B", "C", "D", "E"], "Q2": "E", "Q3": "E"}
TOTAL_40 = TOTAL_20 | {"Q5": "E", "Q6": ["B", "C", "D", "E"], "Q7": ["B", "C", "D", "E"]}
FOUNDATION_FULL = {q.id: top_choice(q) for q in INDEX.dimension("foundation").questions}
MANAGEMENT_FULL = {q.id: top_choice(q) for q in INDEX.dimension("management").questions}
TOTAL_60 = FOUNDATION_FULL | {"Q12": "C", "Q14": "C"}
TOTAL_80 = FOUNDATION_FULL | MANAGEMENT_FULL
# 80 − 1/56, the closest total below 80 the index can produce (points are multiples of 1/8 and 5/7).
TOTAL_JUST_BELOW_80 = (
    FOUNDATION_FULL
    | MANAGEMENT_FULL
    | {
        "Q4": ["B", "C", "D", "E"],
        "Q6": ["B", "C", "D"],
        "Q7": ["B", "C", "D"],
        "Q9": ["B", "C", "D"],
        "Q10": ["B", "C", "D", "E"],
        "Q12": "A",
        "Q13": "C",
        "Q14": "C",
        "Q15": "C",
    }
)


@pytest.mark.parametrize(
    "questions, total, level",
    [
        ({}, 0, 0),
        (TOTAL_20, 20, 1),
        (TOTAL_40, 40, 2),
        (TOTAL_60, 60, 3),
        (TOTAL_80, 80, 4),
        (TOTAL_JUST_BELOW_80, Fraction(80) - Fraction(1, 56), 3),
    ],
    ids=["0", "20", "40", "60", "80", "80-1/56"],
)
def test_score_thresholds_with_every_scenario_at_four(questions, total, level):
    r = score(answers(questions, ALL_AT_FOUR))
    assert r.total_exact == total
    assert r.level == level


def test_just_below_80_displays_79_98_and_stays_three():
    r = score(answers(TOTAL_JUST_BELOW_80, ALL_AT_FOUR))
    assert fmt2(r.total) == "79.98" and r.level == 3


@pytest.mark.parametrize("threshold, level", [(20, 1), (40, 2), (60, 3), (80, 4)])
def test_score_threshold_exact_and_a_hair_below(threshold, level):
    counts = count_scenarios(ALL_AT_FOUR)
    assert determine_level(Fraction(threshold), counts) == level
    assert determine_level(Fraction(threshold) - Fraction(1, 10**9), counts) == level - 1
    assert determine_level(threshold - 1e-9, counts) == level - 1
    assert determine_level(float(threshold), counts) == level


RULES = {r.level: r for r in INDEX.rules}


@pytest.mark.parametrize("level", [4, 3, 2, 1])
def test_scenario_thresholds(level):
    rule = RULES[level]
    full = answers(base="top")["questions"]  # 100 points: only the scenarios decide
    n, c = rule.min_scenarios, rule.min_constraint_scenarios

    exact = score(answers(full, scenario_levels(level, n, c)))
    assert exact.counts_at_level[level] == (n, c)
    assert exact.level == level

    # One scenario short: a non-constraint scenario one level lower.
    short = scenario_levels(level, n - 1, c, demoted=[GUIDANCE[n - c - 1]])
    r = score(answers(full, short))
    assert r.counts_at_level[level] == (n - 1, c)
    assert r.level == level - 1

    # One constraint scenario short, the same number of scenarios (a non-constraint one instead).
    fewer = scenario_levels(level, n, c - 1, demoted=[CONSTRAINT[c - 1]])
    r = score(answers(full, fewer))
    assert r.counts_at_level[level] == (n, c - 1)
    assert r.level == level - 1


def test_counts_are_cumulative_and_constraint_scenarios_count_in_the_total():
    # 6 scenarios at 四级, 3 of them constraint: they count for 一级 and 二级 as well.
    r = score(answers(TOTAL_40, scenario_levels(4, 6, 3)))
    assert r.counts_at_level == {1: (6, 3), 2: (6, 3), 3: (6, 3), 4: (6, 3)}
    assert r.level == 2
    # Score alone does not lift the level: 100 points with 5 scenarios built.
    assert score(answers(base="top", scenarios=scenario_levels(4, 5, 5))).level == 0


# ------------------------------------------------------------------------------------------------------
# (c) Property: any valid answer set scores within bounds; the total is the plain sum
# ------------------------------------------------------------------------------------------------------


def question_answer(q):
    if not q.multi:
        return st.sampled_from([o.key for o in q.options])
    items = [o.key for o in q.options if not o.exclusive]
    subsets = st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True)
    return st.one_of(st.just([q.exclusive_keys[0]]), subsets) if q.exclusive_keys else subsets


@st.composite
def valid_answers(draw):
    qs = {q.id: draw(question_answer(q)) for q in INDEX.questions}
    total = draw(st.integers(min_value=0, max_value=5000))
    digital = draw(st.integers(min_value=0, max_value=total))
    networked = draw(st.integers(min_value=0, max_value=total))
    fields = {"Q2.total": total, "Q2.digital": digital, "Q3.networked": networked}
    ans = {
        "questions": qs,
        "fields": fields,
        "scenarios": {sid: draw(st.integers(min_value=0, max_value=4)) for sid in SIDS},
    }
    for qid in ("Q2", "Q3"):  # the band the numbers fall into (any band when there is no equipment)
        qs[qid] = rate_band(qid, ans) or qs[qid]
    return ans


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_answers())
def test_property_valid_answers_score_within_bounds(ans):
    assert validate(ans) == {}
    r = score(ans)
    assert 0 <= r.total_exact <= 100 and 0 <= r.total <= 100
    for dim in INDEX.dimensions:
        assert 0 <= r.dimension_scores_exact[dim.key] <= dim.max
        assert 0 <= r.dimension_scores[dim.key] <= float(dim.max)
        assert r.dimension_scores_exact[dim.key] == sum(r.question_points[q.id] for q in dim.questions)
    assert r.total_exact == sum(r.dimension_scores_exact.values())
    assert r.total == pytest.approx(sum(r.dimension_scores.values()), abs=1e-9)
    assert r.total == float(r.total_exact)
    for q in INDEX.questions:
        assert 0 <= r.question_points[q.id] <= q.max
    levels = ans["scenarios"]
    assert r.scenarios_built == sum(1 for v in levels.values() if v >= 1)
    assert r.level == determine_level(r.total_exact, count_scenarios(levels))


@settings(max_examples=150, deadline=None)
@given(valid_answers(), st.sampled_from(QIDS), st.sampled_from(["Z", "", 7, None, "b"]))
def test_property_unknown_keys_do_not_change_the_score(ans, qid, junk):
    before = score(ans).total_exact
    tampered = copy.deepcopy(ans)
    value = tampered["questions"][qid]
    tampered["questions"][qid] = (list(value) if isinstance(value, list) else [value]) + [junk]
    assert score(tampered).total_exact == before


# ------------------------------------------------------------------------------------------------------
# Scoring never trusts the answers
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        None,
        {},
        [],
        "x",
        {"questions": None, "fields": 3, "scenarios": "S1"},
        {
            "questions": {"Q1": {"B": 1}, "Q2": 5, "Q5": ["E", "D"]},
            "scenarios": {"S1": 9, "S2": True, "S3": "x", "S4": -1},
        },
    ],
)
def test_garbage_scores_zero_without_raising(junk):
    r = score(junk)
    assert r.total_exact == 0 and r.level == 0 and r.scenarios_built == 0


def test_exclusive_with_others_scores_as_none():
    ans = answers(base="top")
    ans["questions"]["Q1"] = ["B", "A", "C"]
    assert score(ans).question_points["Q1"] == 0
    assert validate(ans)["Q1"] == "选择“无”时不能同时选择其他选项"


def test_single_with_a_list_of_one_and_duplicates():
    ans = answers({"Q5": ["E"], "Q6": ["B", "B", "C"]})
    r = score(ans)
    assert r.question_points["Q5"] == 10 and r.question_points["Q6"] == Fraction(5, 2)
    assert score(answers({"Q5": ["D", "E"]})).question_points["Q5"] == 0


def test_scenario_levels_as_strings_are_accepted():
    r = score(answers(scenarios={"S1": "3"}))
    assert r.scenario_levels["S1"] == 3 and r.scenarios_built == 1


# ------------------------------------------------------------------------------------------------------
# Display rounding
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text, trimmed",
    [
        (13.875, "13.88", "13.88"),
        (Fraction(111, 8), "13.88", "13.88"),
        (10, "10.00", "10"),
        (12.5, "12.50", "12.5"),
        (Fraction(713, 28), "25.46", "25.46"),
        (0.145, "0.15", "0.15"),  # half up on the decimal value, not on the binary float below it
        (2.675, "2.68", "2.68"),
        (0.004, "0.00", "0"),
        (Fraction(0), "0.00", "0"),
        (100, "100.00", "100"),
    ],
)
def test_fmt2(value, text, trimmed):
    assert fmt2(value) == text
    assert fmt2(value, trim=True) == trimmed


# ------------------------------------------------------------------------------------------------------
# Rate bands
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "total, digital, band",
    [
        (100, 0, "A"),
        (100, 10, "A"),
        (1000, 101, "B"),
        (100, 20, "B"),
        (100, 21, "C"),
        (100, 40, "C"),
        (100, 41, "D"),
        (100, 60, "D"),
        (1000, 601, "E"),
        (100, 100, "E"),
        (3, 1, "C"),
        (0, 0, None),
        (None, 5, None),
        (100, None, None),
        (100, 101, None),
        ("120", "30", "C"),
        (100, -1, None),
    ],
)
def test_rate_band(total, digital, band):
    fields = {k: v for k, v in {"Q2.total": total, "Q2.digital": digital}.items() if v is not None}
    assert rate_band("Q2", {"fields": fields}) == band


def test_q3_rate_uses_q2_total():
    ans = {"fields": {"Q2.total": 200, "Q3.networked": 130}}
    assert rate_band("Q3", ans) == "E"
    assert rate_percent("Q3", ans) == 65
    assert rate_band("Q5", ans) is None


# ------------------------------------------------------------------------------------------------------
# (e) validate()
# ------------------------------------------------------------------------------------------------------


def test_missing_answers_are_named():
    errors = validate({})
    assert errors["Q3"] == "请完成第3题"
    assert errors["S1"] == "请选择【产品设计】的等级"
    assert errors["S3"] == "请选择【营销管理】的等级"
    assert errors["Q2.total"] == "请填写生产设备数量"
    assert set(QIDS + SIDS) <= set(errors)
    assert validate({}, complete=False) == {}
    ans = manual_answers(MANUAL_FOUNDATION_TYPICAL, {"Q2.total": 120, "Q2.digital": 18, "Q3.networked": 36})
    del ans["questions"]["Q9"]
    ans["questions"]["Q10"] = []
    del ans["scenarios"]["S16"]
    assert validate(ans) == {"Q9": "请完成第9题", "Q10": "请完成第10题", "S16": "请选择【决策支持】的等级"}
    assert validate(ans, complete=False) == {}


def test_exclusive_conflict_and_option_errors():
    ans = answers(base="top", scenarios=ALL_AT_FOUR)
    ans["questions"].update({"Q6": ["A", "B"], "Q5": ["D", "E"], "Q8": "G", "Q10": ["B", "Z"]})
    errors = validate(ans, complete=False)
    assert errors["Q6"] == "选择“无”时不能同时选择其他选项"
    assert errors["Q5"] == "第5题为单选题，只能选择一个选项"
    assert errors["Q8"] == "第8题的选项“G”无效"
    assert errors["Q10"] == "第10题的选项“Z”无效"


def test_band_contradiction_for_q2_and_q3():
    fields = {"Q2.total": 100, "Q2.digital": 30, "Q3.networked": 5}
    ans = answers({"Q2": "B", "Q3": "A"}, ALL_AT_FOUR, fields)
    assert validate(ans) == {"Q2": "所选区间与填写的设备数量不符，应为C. (20%,40%]"}
    ans["questions"]["Q3"] = "B"
    assert validate(ans)["Q3"] == "所选区间与填写的设备数量不符，应为A. [0-10%]"
    ans["questions"].update({"Q2": "C", "Q3": "A"})
    assert validate(ans) == {}
    # No equipment: no rate, so any band is accepted.
    ans["fields"] = {"Q2.total": 0, "Q2.digital": 0, "Q3.networked": 0}
    assert validate(ans) == {}


def test_device_counts_cannot_exceed_the_total():
    fields = {"Q2.total": 50, "Q2.digital": 60, "Q3.networked": 51}
    errors = validate(answers({"Q2": "E", "Q3": "E"}, ALL_AT_FOUR, fields))
    assert errors == {
        "Q2.digital": "实现数字化的生产设备数量不能大于生产设备数量",
        "Q3.networked": "实现联网的生产设备数量不能大于生产设备数量",
    }


def test_numbers_must_be_non_negative_numbers():
    fields = {
        "Q2.total": -1,
        "Q2.digital": "abc",
        "Q3.networked": 2.5,
        "Q11.investment": "12.5",
        "Q12.energy_last_year": -3,
        "Q14.staff_last_year": "10",
    }
    errors = validate(answers(fields=fields), complete=False)
    assert errors == {
        "Q2.total": "生产设备数量不能为负数",
        "Q2.digital": "实现数字化的生产设备数量须为数字",
        "Q3.networked": "实现联网的生产设备数量须为整数",
        "Q12.energy_last_year": "企业上年综合能源消费量不能为负数",
    }


def test_invalid_scenario_level():
    ans = answers(scenarios={"S2": 5, "S4": "二级"})
    errors = validate(ans, complete=False)
    assert errors == {"S2": "【工艺设计】的等级无效", "S4": "【售后服务】的等级无效"}


# ------------------------------------------------------------------------------------------------------
# (d) The loader refuses inconsistent data
# ------------------------------------------------------------------------------------------------------


def load_modified_text(tmp_path, old, new):
    with open(DEFAULT_PATH, encoding="utf-8") as fh:
        text = fh.read()
    assert text.count(old) == 1, old
    path = tmp_path / "eval_index_modified.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_index(path)


def test_an_unmodified_copy_loads(tmp_path):
    index = load_modified_text(tmp_path, 'version: "2024"', 'version: "2024-copy"')
    assert index.version == "2024-copy" and len(index.questions) == 15


@pytest.mark.parametrize(
    "qid, old, new",
    [
        (
            "Q6",
            "{key: B, text: 建立了网络安全管理制度, points: 1.25}",
            "{key: B, text: 建立了网络安全管理制度, points: 1.5}",
        ),
        ("Q5", "{key: E, text: 全覆盖, points: 10}", "{key: E, text: 全覆盖, points: 9}"),
        ("Q4", "{key: O, text: 人力资源, points: 10/14}", "{key: O, text: 人力资源, points: 0.7}"),
        (
            "Q9",
            "{key: A, text: 无, points: 0, exclusive: true}\n      - {key: B, text: 建立数字化转型实施工作流程",
            "{key: A, text: 无, points: 0.5, exclusive: true}\n      - {key: B, text: 建立数字化转型实施工作流程",
        ),
    ],
)
def test_changed_option_points_name_the_question(tmp_path, qid, old, new):
    with pytest.raises(IndexDataError, match=rf"^{qid}\b"):
        load_modified_text(tmp_path, old, new)


def test_dimension_max_not_matching_its_questions(tmp_path):
    old = "  - key: management\n    name: 数字化管理\n    weight: 30\n    max: 30\n"
    with pytest.raises(IndexDataError, match="数字化管理: question maxima add up to 30, not the dimension max 35"):
        load_modified_text(tmp_path, old, old.replace("max: 30", "max: 35"))


def mutated(change):
    data = copy.deepcopy(RAW)
    change(data)
    return data


def move_q11_to_foundation(data):
    """Every sum still holds (基础 57.5 + 管理 22.5 + 成效 20 = 100) but the dimensions are no longer 50/30/20."""
    q11 = data["dimensions"][1]["indicators"][1]["sub_indicators"].pop()
    data["dimensions"][1]["indicators"][1]["max"] = 7.5
    data["dimensions"][1]["max"] = 22.5
    data["dimensions"][0]["indicators"][0]["sub_indicators"].append(q11)
    data["dimensions"][0]["indicators"][0]["max"] = 27.5
    data["dimensions"][0]["max"] = 57.5


@pytest.mark.parametrize(
    "change, message",
    [
        (move_q11_to_foundation, "数字化基础: weight 50% of 100 is not its max 57.5"),
        (lambda d: d.update(total_max=110), "dimension maxima add up to 100, not total_max 110"),
        (lambda d: d["questions"][3].update(id="Q3"), "duplicate question ids: Q3"),
        (lambda d: d["scenarios"][4].update(id="S4"), "duplicate scenario id S4"),
        (lambda d: d["questions"][0]["options"][2].update(key="B"), r"Q1: duplicate option keys \['B'\]"),
        (lambda d: d["scenarios"][15]["levels"].pop(), "S16 决策支持: needs exactly 4 level texts"),
        (lambda d: d["scenarios"][1].update(constraint=True), "11 constraint scenarios, expected 10"),
        (lambda d: d["scenarios"][0].update(constraint="yes"), "S1 产品设计: constraint must be true or false"),
        (lambda d: d["level_rules"].pop(2), r"level rule rows missing for level\(s\) 2"),
        (lambda d: d["level_rules"].append(dict(d["level_rules"][0])), "level rule for level 4 appears twice"),
        (lambda d: d["questions"][1]["rate_band"]["bands"][1].update(interval="(11,20]"), "Q2.rate_band: bands"),
        (lambda d: d["questions"][2]["rate_band"].update(denominator="Q3.total"), "Q3: rate_band refers to unknown"),
        (lambda d: d["questions"].pop(), "Q15.*not in the question list"),
        (lambda d: d["level_names"].pop(0), r"level_names\[0\]"),
    ],
)
def test_loader_refuses(change, message):
    with pytest.raises(IndexDataError, match=message):
        build_index(mutated(change))


def test_the_unmodified_data_builds():
    index = build_index(copy.deepcopy(RAW))
    assert [q.id for q in index.questions] == QIDS
