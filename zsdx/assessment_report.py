"""The 评测结果 as a .docx (【下载】): the same content as the result page, written with python-docx."""

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from flask_babel import gettext as _


def _cjk(doc):
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


def _table(doc, header, rows):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = str(text)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = str(text)
    return table


def build_docx(ctx):
    """ctx: what AssessmentView._result_context returns."""
    from .assessment import fmt2

    index, score, result, org, answers = ctx["index"], ctx["score"], ctx["result"], ctx["org"], ctx["answers"]
    t = index.texts
    doc = Document()
    _cjk(doc)
    title = doc.add_heading(t.get("result_title", ""), level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(
        f"{_('Enterprise name')}: {org.name}    {_('Unified social credit code')}: {org.credit_code or ''}    "
        f"{_('Assessment time')}: {result.submitted_at:%Y-%m-%d %H:%M:%S}"
    )
    level = doc.add_paragraph()
    run = level.add_run(score.level_name)
    run.bold = True
    run.font.size = Pt(20)
    level.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(score.summary())
    dims = list(index.dimensions)
    _table(
        doc,
        [_("Total")]
        + [f"{d.name}（{fmt2(d.max, trim=True)}）" for d in dims]
        + [_("Scenarios built"), _("of which constraint scenarios")],
        [
            [fmt2(score.total_exact)]
            + [fmt2(score.dimension_scores_exact[d.key]) for d in dims]
            + [f"{score.scenarios_built}/{len(index.scenarios)}", f"{score.constraint_built}/{ctx['constraint_total']}"]
        ],
    )
    doc.add_heading(f"{t.get('title', '')} · {t.get('part1_title', '')}", level=2)
    rows = []
    for q in index.questions:
        chosen = answers.get("questions", {}).get(q.id)
        keys = [chosen] if isinstance(chosen, str) else (chosen or [])
        texts = [f"{o.key}. {o.text}" for o in (q.option(k) for k in keys) if o]
        rows.append(
            [q.number, q.title, "\n".join(texts), fmt2(score.question_points.get(q.id, 0)), fmt2(q.max, trim=True)]
        )
    _table(doc, [_("No."), _("Question"), _("Answer"), _("Points"), _("Maximum")], rows)
    doc.add_heading(t.get("part2_title", ""), level=2)
    _table(
        doc,
        [_("No."), _("Scenario"), _("Constraint"), _("Level reached")],
        [
            [
                s.number,
                s.name,
                _("Yes") if s.constraint else _("No"),
                index.scenario_level_labels[score.scenario_levels.get(s.id, 0)],
            ]
            for s in index.scenarios
        ],
    )
    for note in index.edition.get("notes", []):
        doc.add_paragraph(note)
    return doc
