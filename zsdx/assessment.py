"""中小企业数字化水平评测 (2024年版): the index as data, scoring, overall level and answer validation.

Pure Python (no Flask): the question bank, option points, scenarios, constraint flags, level texts and the
level rule live in zsdx/data/eval_index_2024.yaml (spec: /work/shared/spec/eval-index-2024.md). This module
only interprets that file:

    index = get_index()                      # load_index(path) for another edition; cached per path
    errors = validate(answers)               # {"Q3": "请完成第3题", "S1": "请选择【产品设计】的等级", ...}
    result = score(answers)                  # result.total, result.level_name, result.summary(), ...
    fmt2(result.total)                       # "49.34"

Answers (JSON-serialisable, what the UI stores)::

    {"questions": {"Q1": ["B", "C"], "Q2": "C", ...},           # single: "C" or ["C"]; multi: a list
     "fields": {"Q2.total": 120, "Q2.digital": 30, "Q3.networked": 20, ...},   # "Qn.<formField id>"
     "scenarios": {"S1": 2, "S2": 0, ...}}                        # 0 = 无等级, 1..4 = 一级..四级

Precision: option points are fractions.Fraction (Q4 is 10/14 per item), sums are exact; floats are only
derived for convenience and rounding happens only for display (`fmt2`).

Display rounding (`fmt2`): round half up to exactly two decimals ("13.88" for 13.875, "10.00" for 10).
`fmt2(x, trim=True)` drops trailing zeros the way the manual's result screen shows them ("10", "12.5");
`Result.summary()` uses that form so the sentence reads exactly like the manual's.

Scoring never trusts the answers: unknown option keys and out-of-range scenario levels are ignored, a
single-choice question with more than one option scores 0, and a multi-choice answer containing the
exclusive option (无) scores 0 whatever else was ticked. `validate()` reports all of these.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

import yaml

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "eval_index_2024.yaml")
SCENARIO_LEVELS = 4  # 一级..四级; 0 = 无等级
TOTAL_SCALE = 100  # 基础 + 管理 + 成效 is a 100-point scale (spec §1); the level thresholds are on it
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class IndexDataError(ValueError):
    """The index file is inconsistent; the message names the offending question/scenario/rule."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Option:
    key: str
    text: str
    points: Fraction
    exclusive: bool = False
    note: str | None = None


@dataclass(frozen=True, eq=False)
class FormField:
    id: str
    ref: str  # "Q2.total": the key in answers["fields"]
    question_id: str
    name: str
    label: str
    unit: str | None
    kind: str
    integer: bool
    required: bool
    not_greater_than: str | None


@dataclass(frozen=True, eq=False)
class Band:
    option: str
    interval: str
    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool

    def contains(self, rate):
        above = rate >= self.low if self.low_closed else rate > self.low
        below = rate <= self.high if self.high_closed else rate < self.high
        return above and below


@dataclass(frozen=True, eq=False)
class RateBand:
    label: str | None
    numerator: str  # field refs
    denominator: str
    bands: tuple

    def band_for(self, rate):
        for band in self.bands:
            if band.contains(rate):
                return band.option
        return None

    def as_dict(self):
        """JSON-serialisable form (for the questionnaire's live band pre-selection)."""
        return {
            "label": self.label,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "bands": [
                {
                    "option": b.option,
                    "interval": b.interval,
                    "low": float(b.low),
                    "high": float(b.high),
                    "low_closed": b.low_closed,
                    "high_closed": b.high_closed,
                }
                for b in self.bands
            ],
        }


@dataclass(frozen=True, eq=False)
class Question:
    id: str
    number: int
    title: str
    type: str  # "single" | "multi"
    max: Fraction
    options: tuple
    dimension_key: str
    description: str | None = None
    manual_title: str | None = None
    form_heading: str | None = None
    form_fields: tuple = ()
    uses_fields: tuple = ()
    rate_band: RateBand | None = None
    _by_key: dict = field(default_factory=dict, repr=False)

    @property
    def multi(self):
        return self.type == "multi"

    def option(self, key):
        return self._by_key.get(key)

    @property
    def exclusive_keys(self):
        return tuple(o.key for o in self.options if o.exclusive)


@dataclass(frozen=True, eq=False)
class SubIndicator:
    name: str
    weight: Fraction
    max: Fraction
    question_id: str


@dataclass(frozen=True, eq=False)
class Indicator:
    name: str
    weight: Fraction
    max: Fraction
    sub_indicators: tuple


@dataclass(frozen=True, eq=False)
class Dimension:
    key: str
    name: str
    weight: Fraction
    max: Fraction
    indicators: tuple
    questions: tuple


@dataclass(frozen=True, eq=False)
class Scenario:
    id: str
    number: int
    name: str
    group: str
    constraint: bool
    levels: tuple  # the 4 level texts, 一级 first
    aliases: tuple = ()


@dataclass(frozen=True, eq=False)
class LevelRule:
    level: int
    min_score: Fraction
    min_scenarios: int
    min_constraint_scenarios: int


@dataclass(frozen=True, eq=False)
class Index:
    version: str
    edition: MappingProxyType
    total_max: Fraction
    dimensions: tuple
    questions: tuple
    scenarios: tuple
    scenario_groups: tuple
    rules: tuple  # LevelRule, highest level first
    level_names: MappingProxyType  # {0: "未达一级", 1: "一级（规划级）", ...}
    level_short_names: MappingProxyType  # {0: "未达一级", 1: "一级", ...}
    scenario_level_labels: MappingProxyType  # {0: "无等级", 1: "一级", ...}
    texts: MappingProxyType
    source: str = ""
    _questions: dict = field(default_factory=dict, repr=False)
    _scenarios: dict = field(default_factory=dict, repr=False)
    _dimensions: dict = field(default_factory=dict, repr=False)
    _fields: dict = field(default_factory=dict, repr=False)

    def question(self, question_id):
        try:
            return self._questions[question_id]
        except KeyError:
            raise KeyError(f"unknown question {question_id!r}") from None

    def scenario(self, scenario_id):
        try:
            return self._scenarios[scenario_id]
        except KeyError:
            raise KeyError(f"unknown scenario {scenario_id!r}") from None

    def dimension(self, key):
        return self._dimensions[key]

    def field(self, ref):
        """The FormField for "Q2.total"."""
        return self._fields[ref]

    @property
    def form_fields(self):
        return tuple(self._fields.values())

    @property
    def constraint_scenarios(self):
        return tuple(s for s in self.scenarios if s.constraint)

    def scenario_prompt(self, scenario):
        """The manual's prompt, e.g. 【协同办公】为非约束性场景，请选择已满足的等级."""
        t = self.texts
        kind = t.get("scenario_kind_constraint") if scenario.constraint else t.get("scenario_kind_guidance")
        return t.get("scenario_prompt", "【{name}】").format(name=scenario.name, kind=kind or "")


def get_index():
    """The default (2024) index."""
    return load_index(None)


def load_index(path=None):
    """Load and validate an index file; cached per (absolute) path. Raises IndexDataError."""
    return _load_cached(os.path.abspath(os.fspath(path)) if path else DEFAULT_PATH)


@functools.lru_cache(maxsize=16)
def _load_cached(path):
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise IndexDataError(f"{path}: not valid YAML: {exc}") from exc
    return build_index(data, source=path)


def _fail(message):
    raise IndexDataError(message)


def _frac(value, where):
    """Exact number from YAML: int, float (read through its decimal repr) or a string such as "10/14"."""
    if isinstance(value, bool) or value is None:
        _fail(f"{where}: {value!r} is not a number")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            _fail(f"{where}: {value!r} is not a finite number")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            _fail(f"{where}: {value!r} is not a number or fraction")
    _fail(f"{where}: {value!r} is not a number")


def _int(value, where):
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"{where}: {value!r} is not an integer")
    return value


def _text(value, where, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        _fail(f"{where}: missing or empty text")
    return value.strip()


def _list(value, where):
    if not isinstance(value, list) or not value:
        _fail(f"{where}: expected a non-empty list")
    return value


def _map(value, where):
    if not isinstance(value, dict):
        _fail(f"{where}: expected a mapping")
    return value


def _num(x):
    """A Fraction for messages: "57.5" when it is a finite decimal, else "71/7 (≈10.1429)"."""
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        return format(Decimal(x.numerator) / Decimal(x.denominator), "f")
    return f"{x} (≈{float(x):.6g})"


_INTERVAL = re.compile(r"^\s*([\[(])\s*([0-9.]+)\s*,\s*([0-9.]+)\s*([\])])\s*$")


def _parse_band(raw, where, option_keys):
    raw = _map(raw, where)
    option = raw.get("option")
    if option not in option_keys:
        _fail(f"{where}: band option {option!r} is not an option of the question")
    m = _INTERVAL.match(str(raw.get("interval", "")))
    if not m:
        _fail(f'{where}: interval {raw.get("interval")!r} is not like "(10,20]"')
    low, high = Fraction(m.group(2)), Fraction(m.group(3))
    if low > high:
        _fail(f"{where}: interval {raw['interval']} is empty")
    return Band(option, raw["interval"].strip(), low, high, m.group(1) == "[", m.group(4) == "]")


def _check_bands(bands, where):
    """Bands must tile [0, 100] without gap or overlap, in ascending order."""
    if len({b.option for b in bands}) != len(bands):
        _fail(f"{where}: an option appears in two bands")
    first, last = bands[0], bands[-1]
    if first.low != 0 or not first.low_closed or last.high != 100 or not last.high_closed:
        _fail(f"{where}: the bands must cover [0,100]")
    for a, b in itertools.pairwise(bands):
        if a.high != b.low or a.high_closed == b.low_closed:
            _fail(f"{where}: bands {a.interval} and {b.interval} leave a gap or overlap")


def _parse_question(raw, position, dimension_key):
    where = f"questions[{position}]"
    raw = _map(raw, where)
    qid = _text(raw.get("id"), f"{where}.id")
    where = qid
    number = _int(raw.get("number"), f"{qid}.number")
    qtype = raw.get("type")
    if qtype not in ("single", "multi"):
        _fail(f"{qid}: type must be single or multi, not {qtype!r}")
    qmax = _frac(raw.get("max"), f"{qid}.max")
    if qmax <= 0:
        _fail(f"{qid}: max must be positive")
    options = []
    for i, o in enumerate(_list(raw.get("options"), f"{qid}.options")):
        o = _map(o, f"{qid}.options[{i}]")
        key = _text(o.get("key"), f"{qid}.options[{i}].key")
        points = _frac(o.get("points"), f"{qid} option {key} points")
        if points < 0:
            _fail(f"{qid}: option {key} has negative points")
        exclusive = o.get("exclusive", False)
        if not isinstance(exclusive, bool):
            _fail(f"{qid}: option {key} exclusive must be true or false")
        if exclusive and points != 0:
            _fail(f"{qid}: exclusive option {key} must score 0, not {_num(points)}")
        options.append(
            Option(
                key,
                _text(o.get("text"), f"{qid} option {key} text"),
                points,
                exclusive,
                _text(o.get("note"), f"{qid} option {key} note", required=False),
            )
        )
    keys = [o.key for o in options]
    if len(set(keys)) != len(keys):
        _fail(f"{qid}: duplicate option keys {sorted(k for k in set(keys) if keys.count(k) > 1)}")
    if sum(o.exclusive for o in options) > 1:
        _fail(f"{qid}: more than one exclusive option")
    if qtype == "single":
        best = max(o.points for o in options)
        if best != qmax:
            _fail(f"{qid}: the best option scores {_num(best)}, not the question max {_num(qmax)}")
    else:
        total = sum((o.points for o in options if not o.exclusive), Fraction(0))
        if total != qmax:
            _fail(f"{qid}: the non-exclusive options add up to {_num(total)}, not the question max {_num(qmax)}")
        if all(o.exclusive for o in options):
            _fail(f"{qid}: a multi-choice question needs non-exclusive options")
    form_fields = []
    for i, f in enumerate(raw.get("formFields") or []):
        f = _map(f, f"{qid}.formFields[{i}]")
        fid = _text(f.get("id"), f"{qid}.formFields[{i}].id")
        kind = f.get("kind", "number")
        if kind != "number":
            _fail(f"{qid}.{fid}: kind {kind!r} is not supported (number)")
        form_fields.append(
            FormField(
                id=fid,
                ref=f"{qid}.{fid}",
                question_id=qid,
                name=_text(f.get("name") or f.get("label"), f"{qid}.{fid}.name"),
                label=_text(f.get("label"), f"{qid}.{fid}.label"),
                unit=_text(f.get("unit"), f"{qid}.{fid}.unit", required=False),
                kind=kind,
                integer=bool(f.get("integer", False)),
                required=bool(f.get("required", False)),
                not_greater_than=f.get("not_greater_than"),
            )
        )
    refs = [f.ref for f in form_fields]
    if len(set(refs)) != len(refs):
        _fail(f"{qid}: duplicate formField ids")
    rate_band = None
    if raw.get("rate_band") is not None:
        if qtype != "single":
            _fail(f"{qid}: rate_band needs a single-choice question")
        rb = _map(raw["rate_band"], f"{qid}.rate_band")
        bands = tuple(
            _parse_band(b, f"{qid}.rate_band.bands[{i}]", set(keys))
            for i, b in enumerate(_list(rb.get("bands"), f"{qid}.rate_band.bands"))
        )
        _check_bands(bands, f"{qid}.rate_band")
        rate_band = RateBand(
            _text(rb.get("label"), f"{qid}.rate_band.label", required=False),
            _text(rb.get("numerator"), f"{qid}.rate_band.numerator"),
            _text(rb.get("denominator"), f"{qid}.rate_band.denominator"),
            bands,
        )
    return Question(
        id=qid,
        number=number,
        title=_text(raw.get("title"), f"{qid}.title"),
        type=qtype,
        max=qmax,
        options=tuple(options),
        dimension_key=dimension_key,
        description=_text(raw.get("description"), f"{qid}.description", required=False),
        manual_title=_text(raw.get("manual_title"), f"{qid}.manual_title", required=False),
        form_heading=_text(raw.get("form_heading"), f"{qid}.form_heading", required=False),
        form_fields=tuple(form_fields),
        uses_fields=tuple(raw.get("uses_fields") or ()),
        rate_band=rate_band,
        _by_key={o.key: o for o in options},
    )


def _check_weight(child_max, parent_max, weight, where):
    if parent_max * weight / 100 != child_max:
        _fail(f"{where}: weight {_num(weight)}% of {_num(parent_max)} is not its max {_num(child_max)}")


def build_index(data, source="<data>"):
    """Build and validate an Index from the parsed YAML mapping. Raises IndexDataError."""
    data = _map(data, source)
    version = data.get("version")
    if version is None:
        _fail(f"{source}: missing version")
    total_max = _frac(data.get("total_max"), "total_max")
    expect = data.get("expect") or {}

    # Questions, in file order, tied to the dimension tree.
    raw_questions = _list(data.get("questions"), "questions")
    ids = [q.get("id") if isinstance(q, dict) else None for q in raw_questions]
    dupes = sorted({str(i) for i in ids if ids.count(i) > 1})
    if dupes:
        _fail(f"duplicate question ids: {', '.join(dupes)}")
    raw_by_id = dict(zip(ids, raw_questions))

    dimensions, questions, seen_dims, tree_order = [], [], set(), []
    dims_total = Fraction(0)
    weights = []  # (child max, parent max, weight %, where), checked once the sums are known to hold
    for i, d in enumerate(_list(data.get("dimensions"), "dimensions")):
        d = _map(d, f"dimensions[{i}]")
        key = _text(d.get("key"), f"dimensions[{i}].key")
        name = _text(d.get("name"), f"dimensions[{i}].name")
        if key in seen_dims:
            _fail(f"duplicate dimension key {key}")
        seen_dims.add(key)
        dmax = _frac(d.get("max"), f"{name}.max")
        dweight = _frac(d.get("weight"), f"{name}.weight")
        weights.append((dmax, total_max, dweight, name))
        indicators, dim_questions = [], []
        for j, ind in enumerate(_list(d.get("indicators"), f"{name}.indicators")):
            ind = _map(ind, f"{name}.indicators[{j}]")
            iname = _text(ind.get("name"), f"{name}.indicators[{j}].name")
            imax = _frac(ind.get("max"), f"{name}/{iname}.max")
            iweight = _frac(ind.get("weight"), f"{name}/{iname}.weight")
            weights.append((imax, dmax, iweight, f"{name}/{iname}"))
            subs = []
            for k, sub in enumerate(_list(ind.get("sub_indicators"), f"{name}/{iname}.sub_indicators")):
                sub = _map(sub, f"{name}/{iname}.sub_indicators[{k}]")
                sname = _text(sub.get("name"), f"{name}/{iname}.sub_indicators[{k}].name")
                where = f"{name}/{iname}/{sname}"
                smax = _frac(sub.get("max"), f"{where}.max")
                sweight = _frac(sub.get("weight"), f"{where}.weight")
                weights.append((smax, imax, sweight, where))
                qid = sub.get("question")
                if qid not in raw_by_id:
                    _fail(f"{where}: question {qid!r} is not in the question list")
                if qid in tree_order:
                    _fail(f"{where}: question {qid} is measured twice")
                tree_order.append(qid)
                q = _parse_question(raw_by_id[qid], ids.index(qid), key)
                if q.max != smax:
                    _fail(f"{qid}: question max {_num(q.max)} differs from its indicator {where} ({_num(smax)})")
                dim_questions.append(q)
                subs.append(SubIndicator(sname, sweight, smax, qid))
            if sum((s.max for s in subs), Fraction(0)) != imax:
                _fail(f"{name}/{iname}: sub-indicator maxima do not add up to {_num(imax)}")
            indicators.append(Indicator(iname, iweight, imax, tuple(subs)))
        qsum = sum((q.max for q in dim_questions), Fraction(0))
        if qsum != dmax:
            _fail(f"{name}: question maxima add up to {_num(qsum)}, not the dimension max {_num(dmax)}")
        dims_total += dmax
        questions.extend(dim_questions)
        dimensions.append(Dimension(key, name, dweight, dmax, tuple(indicators), tuple(dim_questions)))
    if dims_total != total_max:
        _fail(f"dimension maxima add up to {_num(dims_total)}, not total_max {_num(total_max)}")
    if total_max != TOTAL_SCALE:
        _fail(f"total_max is {_num(total_max)}; the index is a {TOTAL_SCALE}-point scale")
    for args in weights:
        _check_weight(*args)
    unused = [i for i in ids if i not in tree_order]
    if unused:
        _fail(f"questions not measured by any indicator: {', '.join(map(str, unused))}")
    if tree_order != ids:
        _fail("the question list must follow the order of the dimension tree")
    numbers = [q.number for q in questions]
    if len(set(numbers)) != len(numbers):
        _fail("duplicate question numbers")
    if "questions" in expect and len(questions) != expect["questions"]:
        _fail(f"{len(questions)} questions, expected {expect['questions']}")

    fields = {f.ref: f for q in questions for f in q.form_fields}
    by_qid = {q.id: q for q in questions}
    for q in questions:
        for ref in q.uses_fields:
            if ref not in fields:
                _fail(f"{q.id}: uses_fields refers to unknown field {ref}")
        for f in q.form_fields:
            if f.not_greater_than is not None and f.not_greater_than not in fields:
                _fail(f"{f.ref}: not_greater_than refers to unknown field {f.not_greater_than}")
        if q.rate_band:
            for ref in (q.rate_band.numerator, q.rate_band.denominator):
                if ref not in fields:
                    _fail(f"{q.id}: rate_band refers to unknown field {ref}")

    # Scenarios.
    groups = tuple(_list(data.get("scenario_groups"), "scenario_groups"))
    scenarios, seen_ids, seen_names, seen_numbers = [], set(), set(), set()
    for i, s in enumerate(_list(data.get("scenarios"), "scenarios")):
        s = _map(s, f"scenarios[{i}]")
        sid = _text(s.get("id"), f"scenarios[{i}].id")
        if sid in seen_ids:
            _fail(f"duplicate scenario id {sid}")
        seen_ids.add(sid)
        number = _int(s.get("number"), f"{sid}.number")
        if number in seen_numbers:
            _fail(f"{sid}: duplicate scenario number {number}")
        seen_numbers.add(number)
        name = _text(s.get("name"), f"{sid}.name")
        aliases = tuple(_text(a, f"{sid}.aliases") for a in (s.get("aliases") or ()))
        for n in (name, *aliases):
            if n in seen_names:
                _fail(f"{sid}: scenario name {n} is used twice")
            seen_names.add(n)
        group = s.get("group")
        if group not in groups:
            _fail(f"{sid} {name}: group {group!r} is not in scenario_groups")
        constraint = s.get("constraint")
        if not isinstance(constraint, bool):
            _fail(f"{sid} {name}: constraint must be true or false")
        levels = s.get("levels")
        if not isinstance(levels, list) or len(levels) != SCENARIO_LEVELS:
            _fail(f"{sid} {name}: needs exactly {SCENARIO_LEVELS} level texts")
        levels = tuple(_text(t, f"{sid} {name} level {n}") for n, t in enumerate(levels, 1))
        scenarios.append(Scenario(sid, number, name, group, constraint, levels, aliases))
    if "scenarios" in expect and len(scenarios) != expect["scenarios"]:
        _fail(f"{len(scenarios)} scenarios, expected {expect['scenarios']}")
    n_constraint = sum(s.constraint for s in scenarios)
    if n_constraint != expect.get("constraint_scenarios", n_constraint):
        _fail(f"{n_constraint} constraint scenarios, expected {expect['constraint_scenarios']}")
    if set(ids) & seen_ids:
        _fail("question and scenario ids overlap")

    # Level rule.
    rules = {}
    for i, r in enumerate(_list(data.get("level_rules"), "level_rules")):
        r = _map(r, f"level_rules[{i}]")
        level = _int(r.get("level"), f"level_rules[{i}].level")
        if level in rules:
            _fail(f"level rule for level {level} appears twice")
        if not 1 <= level <= SCENARIO_LEVELS:
            _fail(f"level rule for unknown level {level}")
        rule = LevelRule(
            level,
            _frac(r.get("min_score"), f"level rule {level}.min_score"),
            _int(r.get("min_scenarios"), f"level rule {level}.min_scenarios"),
            _int(r.get("min_constraint_scenarios"), f"level rule {level}.min_constraint_scenarios"),
        )
        if rule.min_constraint_scenarios > rule.min_scenarios:
            _fail(f"level rule {level}: more constraint scenarios than scenarios required")
        rules[level] = rule
    missing = [str(level) for level in range(1, SCENARIO_LEVELS + 1) if level not in rules]
    if missing:
        _fail(f"level rule rows missing for level(s) {', '.join(missing)}")

    names, shorts = {}, {}
    raw_names = _map(data.get("level_names"), "level_names")
    for level in range(SCENARIO_LEVELS + 1):
        entry = raw_names.get(level)
        if isinstance(entry, str):
            entry = {"name": entry}
        entry = _map(entry, f"level_names[{level}]")
        names[level] = _text(entry.get("name"), f"level_names[{level}].name")
        shorts[level] = _text(entry.get("short") or entry.get("name"), f"level_names[{level}].short")
    raw_labels = _map(data.get("scenario_level_labels"), "scenario_level_labels")
    labels = {
        level: _text(raw_labels.get(level), f"scenario_level_labels[{level}]") for level in range(SCENARIO_LEVELS + 1)
    }

    return Index(
        version=str(version),
        edition=MappingProxyType(dict(data.get("edition") or {})),
        total_max=total_max,
        dimensions=tuple(dimensions),
        questions=tuple(questions),
        scenarios=tuple(scenarios),
        scenario_groups=groups,
        rules=tuple(rules[level] for level in sorted(rules, reverse=True)),
        level_names=MappingProxyType(names),
        level_short_names=MappingProxyType(shorts),
        scenario_level_labels=MappingProxyType(labels),
        texts=MappingProxyType(dict(data.get("texts") or {})),
        source=source,
        _questions=by_qid,
        _scenarios={s.id: s for s in scenarios},
        _dimensions={d.key: d for d in dimensions},
        _fields=fields,
    )


# --------------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------------


def _parts(answers):
    if not isinstance(answers, dict):
        answers = {}
    parts = []
    for name in ("questions", "fields", "scenarios"):
        part = answers.get(name)
        parts.append(part if isinstance(part, dict) else {})
    return parts


def _given_keys(raw):
    """The option keys an answer names, in order, without duplicates ([] when blank). Not filtered."""
    if raw is None or raw == "":
        return []
    items = [raw] if isinstance(raw, str) else raw if isinstance(raw, (list, tuple)) else [raw]
    out = []
    for item in items:
        if item not in out and item != "":
            out.append(item)
    return out


def _question_points(question, raw):
    keys = [k for k in _given_keys(raw) if isinstance(k, str) and k in question._by_key]
    if not keys:
        return Fraction(0)
    opts = [question._by_key[k] for k in keys]
    if any(o.exclusive for o in opts):
        return Fraction(0)
    if question.type == "single":
        return opts[0].points if len(opts) == 1 else Fraction(0)
    return sum((o.points for o in opts), Fraction(0))


_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _number(raw):
    """A form value as an exact Fraction, or None when it is not a plain decimal number."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, Fraction)):
        return Fraction(raw)
    if isinstance(raw, float):
        return Fraction(repr(raw)) if math.isfinite(raw) else None
    if isinstance(raw, Decimal):
        return Fraction(raw) if raw.is_finite() else None
    if isinstance(raw, str):
        text = raw.strip()
        return Fraction(text) if _DECIMAL.match(text) else None
    return None


def _scenario_level(raw):
    """0..4, or None when missing/invalid."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, int) and 0 <= raw <= SCENARIO_LEVELS:
        return raw
    return None


def _blank(raw):
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _rate(rate_band, fields):
    num, den = _number(fields.get(rate_band.numerator)), _number(fields.get(rate_band.denominator))
    if num is None or den is None or den <= 0 or num < 0:
        return None
    return num * 100 / den


def rate_band(question_id, answers, index=None):
    """The option key whose interval holds numerator/denominator×100 of the question's form fields, or
    None (no rate band, denominator missing/0, or a rate outside 0–100)."""
    index = index or get_index()
    question = index.question(question_id)
    if question.rate_band is None:
        return None
    rate = _rate(question.rate_band, _parts(answers)[1])
    return None if rate is None else question.rate_band.band_for(rate)


def rate_percent(question_id, answers, index=None):
    """The computed rate in percent as a Fraction (for the read-only "生产设备数字化率（%）"), or None."""
    index = index or get_index()
    question = index.question(question_id)
    if question.rate_band is None:
        return None
    return _rate(question.rate_band, _parts(answers)[1])


# --------------------------------------------------------------------------------------------------------
# Scoring and level
# --------------------------------------------------------------------------------------------------------


def fmt2(x, trim=False):
    """Round half up to 2 decimals for display: 13.875 → "13.88", 10 → "10.00" ("10" with trim=True).

    Fractions are rounded exactly; floats through their shortest repr (so 0.145 → "0.15")."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        x = Fraction(repr(x))
    else:
        x = Fraction(x)
    cents = math.floor(abs(x) * 100 + Fraction(1, 2))
    text = f"{'-' if x < 0 and cents else ''}{cents // 100}.{cents % 100:02d}"
    if trim:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass
class Result:
    question_points: dict  # {qid: Fraction}, exact
    dimension_scores: dict  # {dimension key: float}
    dimension_scores_exact: dict  # {dimension key: Fraction}
    total: float
    total_exact: Fraction
    level: int
    level_name: str  # "二级（规范级）"
    level_short: str  # "二级"
    scenario_levels: dict  # {sid: 0..4}, invalid/missing → 0
    scenarios_built: int  # scenarios at level ≥ 1
    constraint_built: int
    counts_at_level: dict  # {L: (scenarios at ≥ L, constraint scenarios at ≥ L)} for L = 1..4
    index: Index = field(repr=False, compare=False, default=None)

    display = staticmethod(fmt2)

    def summary(self):
        """The manual's result sentence ("本次数字化基础、管理和成效三个维度评分结果为49.34分，…")."""
        template = self.index.texts.get("result_summary", "")
        scores = {key: fmt2(value, trim=True) for key, value in self.dimension_scores_exact.items()}
        return template.format(
            total=fmt2(self.total_exact, trim=True),
            scenario_count=len(self.index.scenarios),
            scenarios_built=self.scenarios_built,
            constraint_built=self.constraint_built,
            level=self.level,
            level_name=self.level_name,
            level_short=self.level_short,
            **scores,
        )

    def to_dict(self):
        """JSON-serialisable: floats plus exact values as "n/d" strings and 2-decimal display strings."""
        return {
            "version": self.index.version if self.index else None,
            "question_points": {k: str(v) for k, v in self.question_points.items()},
            "dimension_scores": dict(self.dimension_scores),
            "dimension_scores_exact": {k: str(v) for k, v in self.dimension_scores_exact.items()},
            "dimension_scores_display": {k: fmt2(v) for k, v in self.dimension_scores_exact.items()},
            "total": self.total,
            "total_exact": str(self.total_exact),
            "total_display": fmt2(self.total_exact),
            "level": self.level,
            "level_name": self.level_name,
            "level_short": self.level_short,
            "scenario_levels": dict(self.scenario_levels),
            "scenarios_built": self.scenarios_built,
            "constraint_built": self.constraint_built,
            "counts_at_level": {str(k): list(v) for k, v in self.counts_at_level.items()},
        }


def count_scenarios(scenario_levels, index=None):
    """{L: (scenarios at level ≥ L, constraint scenarios at level ≥ L)} for L = 1..4."""
    index = index or get_index()
    counts = {}
    for level in range(1, SCENARIO_LEVELS + 1):
        total = constraint = 0
        for s in index.scenarios:
            if scenario_levels.get(s.id, 0) >= level:
                total += 1
                constraint += s.constraint
        counts[level] = (total, constraint)
    return counts


def determine_level(total, counts_at_level, index=None):
    """Overall level 0..4: rules tested from 四级 down, the first whose three conditions hold (≥) wins.
    `total` should be exact (Fraction); `counts_at_level` as returned by count_scenarios()."""
    index = index or get_index()
    for rule in index.rules:
        n, c = counts_at_level.get(rule.level, (0, 0))
        if total >= rule.min_score and n >= rule.min_scenarios and c >= rule.min_constraint_scenarios:
            return rule.level
    return 0


def score(answers, index=None):
    """Score an answer set (never trusting it; see the module docstring). Returns a Result."""
    index = index or get_index()
    qa, _fields, sa = _parts(answers)
    question_points, dims_exact = {}, {}
    total = Fraction(0)
    for dim in index.dimensions:
        dim_total = Fraction(0)
        for q in dim.questions:
            points = _question_points(q, qa.get(q.id))
            question_points[q.id] = points
            dim_total += points
        dims_exact[dim.key] = dim_total
        total += dim_total
    levels = {}
    for s in index.scenarios:
        level = _scenario_level(sa.get(s.id))
        levels[s.id] = level or 0
    counts = count_scenarios(levels, index)
    level = determine_level(total, counts, index)
    return Result(
        question_points=question_points,
        dimension_scores={k: float(v) for k, v in dims_exact.items()},
        dimension_scores_exact=dims_exact,
        total=float(total),
        total_exact=total,
        level=level,
        level_name=index.level_names[level],
        level_short=index.level_short_names[level],
        scenario_levels=levels,
        scenarios_built=counts[1][0],
        constraint_built=counts[1][1],
        counts_at_level=counts,
        index=index,
    )


# --------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------


def validate(answers, index=None, complete=True):
    """{question id / "Qn.field" / scenario id: Chinese message}; empty when the answers are acceptable.

    complete=True (submitting): every question answered, every required field filled, every scenario rated.
    complete=False (saving a draft): only what was given is checked."""
    index = index or get_index()
    qa, fa, sa = _parts(answers)
    errors = {}

    chosen = {}
    for q in index.questions:
        keys = _given_keys(qa.get(q.id))
        if not keys:
            if complete:
                errors[q.id] = f"请完成第{q.number}题"
            continue
        unknown = [k for k in keys if not (isinstance(k, str) and k in q._by_key)]
        if unknown:
            errors[q.id] = f"第{q.number}题的选项“{'、'.join(map(str, unknown))}”无效"
            continue
        exclusive = [q._by_key[k] for k in keys if q._by_key[k].exclusive]
        if exclusive and len(keys) > 1:
            errors[q.id] = f"选择“{exclusive[0].text}”时不能同时选择其他选项"
        elif q.type == "single" and len(keys) > 1:
            errors[q.id] = f"第{q.number}题为单选题，只能选择一个选项"
        else:
            chosen[q.id] = keys

    values = {}
    for f in index.form_fields:
        raw = fa.get(f.ref)
        if _blank(raw):
            if complete and f.required:
                errors[f.ref] = f"请填写{f.name}"
            continue
        value = _number(raw)
        if value is None:
            errors[f.ref] = f"{f.name}须为数字"
        elif value < 0:
            errors[f.ref] = f"{f.name}不能为负数"
        elif f.integer and value.denominator != 1:
            errors[f.ref] = f"{f.name}须为整数"
        else:
            values[f.ref] = value
    for f in index.form_fields:
        limit = f.not_greater_than
        if limit and f.ref in values and limit in values and values[f.ref] > values[limit]:
            errors[f.ref] = f"{f.name}不能大于{index.field(limit).name}"

    for q in index.questions:
        rb = q.rate_band
        if rb is None or q.id not in chosen or {rb.numerator, rb.denominator} & errors.keys():
            continue
        if rb.numerator not in values or rb.denominator not in values:
            continue
        rate = _rate(rb, values)
        expected = None if rate is None else rb.band_for(rate)
        if expected is not None and chosen[q.id] != [expected]:
            option = q.option(expected)
            errors[q.id] = f"所选区间与填写的设备数量不符，应为{option.key}. {option.text}"

    for s in index.scenarios:
        raw = sa.get(s.id)
        if raw is None or raw == "":
            if complete:
                errors[s.id] = f"请选择【{s.name}】的等级"
        elif _scenario_level(raw) is None:
            errors[s.id] = f"【{s.name}】的等级无效"
    return errors
