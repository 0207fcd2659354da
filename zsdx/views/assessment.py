"""评估评测 (manual 03): the national digital-level questionnaire, its result page and the .docx report.

Questions, points and level rules come from the index data file through zsdx.assessment; this module
only turns the posted form into an answer set and back.
"""

import datetime as dt
import io
import json
from decimal import Decimal

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _

from .. import assessment as scoring
from ..extensions import db
from ..models import AssessmentResult
from ..visibility import get_owned_or_404, owned


def fmt2(value):
    return scoring.fmt2(float(value)) if value is not None else ""


def answers_from_form(form, index):
    """The posted questionnaire as an answer set (unknown names are ignored)."""
    answers = {"questions": {}, "fields": {}, "scenarios": {}}
    for q in index.questions:
        if q.type == "multi":
            picked = [v for v in form.getlist(f"q_{q.id}") if v]
            if picked:
                answers["questions"][q.id] = picked
        else:
            value = form.get(f"q_{q.id}")
            if value:
                answers["questions"][q.id] = value
        for field in q.form_fields:
            raw = (form.get(f"f_{q.id}.{field.id}") or "").strip()
            if raw:
                try:
                    number = float(raw)
                    answers["fields"][f"{q.id}.{field.id}"] = int(number) if number.is_integer() else number
                except ValueError:
                    answers["fields"][f"{q.id}.{field.id}"] = raw  # kept as typed; validate() names it
    for s in index.scenarios:
        value = form.get(f"s_{s.id}")
        if value not in (None, ""):
            try:
                answers["scenarios"][s.id] = int(value)
            except ValueError:
                pass
    return answers


def own_result(pk):
    return get_owned_or_404(AssessmentResult, pk)


def safe_next(default=None):
    target = request.values.get("next")
    return get_safe_redirect(target) if target else default


class AssessmentView(BaseView):
    route_base = "/assessment"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = owned(AssessmentResult).order_by(AssessmentResult.created_at.desc(), AssessmentResult.id.desc()).all()
        return self.render_template(
            "zsdx/assessment_list.html",
            title=_("SME digital level assessment"),
            rows=rows,
            level_names=scoring.get_index().level_names,
            fmt2=fmt2,
        )

    @expose("/new")
    @has_access
    def new(self):
        """【开始评测】 / 【立即自诊断】: continue the draft, or start one."""
        if g.user.organisation_id is None:
            abort(403)
        draft = (
            owned(AssessmentResult)
            .filter(AssessmentResult.submitted.is_(False))
            .order_by(AssessmentResult.id.desc())
            .first()
        )
        if draft is None:
            draft = AssessmentResult(
                organisation_id=g.user.organisation_id, user_id=g.user.id, index_version=scoring.get_index().version
            )
            db.session.add(draft)
            db.session.commit()
        return redirect(url_for("AssessmentView.edit", pk=draft.id, next=safe_next()))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        result = own_result(pk)
        if result.submitted:
            flash(_("A submitted assessment cannot be changed"), "warning")
            return redirect(url_for("AssessmentView.result", pk=pk))
        index = scoring.get_index()
        errors = {}
        if request.method == "POST":
            answers = answers_from_form(request.form, index)
            action = request.form.get("action", "save")
            errors = scoring.validate(answers, index, complete=(action == "submit"))
            if action != "submit":
                errors = {k: v for k, v in errors.items()}  # shown, but a draft is kept as typed
            result.answers = json.dumps(answers, ensure_ascii=False)
            if action == "submit" and not errors:
                self._finish(result, answers, index)
                db.session.commit()
                return redirect(url_for("AssessmentView.result", pk=pk, next=safe_next()))
            db.session.commit()
            if not errors:
                flash(_("Saved"), "success")
                return redirect(url_for("AssessmentView.edit", pk=pk, next=safe_next()))
            flash(_("Please complete the items marked in red"), "danger")
        else:
            answers = json.loads(result.answers or "{}")
        return self.render_template(
            "zsdx/assessment_form.html",
            title=_("SME digital level assessment"),
            result=result,
            index=index,
            answers=answers,
            errors=errors,
            next=safe_next() or "",
            bands=_band_hints(index),
        )

    @staticmethod
    def _finish(result, answers, index):
        score = scoring.score(answers, index)
        dims = score.dimension_scores
        keys = [d.key for d in index.dimensions]
        result.submitted = True
        result.submitted_at = dt.datetime.now()
        result.index_version = index.version
        result.total = Decimal(str(score.total))
        result.basic_score = Decimal(str(dims[keys[0]]))
        result.management_score = Decimal(str(dims[keys[1]]))
        result.effect_score = Decimal(str(dims[keys[2]]))
        result.level = score.level
        result.scenarios_built = score.scenarios_built
        result.constraint_built = score.constraint_built

    @expose("/<int:pk>/result")
    @has_access
    def result(self, pk):
        result = own_result(pk)
        if not result.submitted:
            return redirect(url_for("AssessmentView.edit", pk=pk))
        return self.render_template(
            "zsdx/assessment_result.html",
            title=_("Assessment result"),
            **self._result_context(result),
            back=safe_next(url_for("AssessmentView.index")),
        )

    @staticmethod
    def _result_context(result):
        index = scoring.get_index()
        answers = json.loads(result.answers or "{}")
        score = scoring.score(answers, index)
        return {
            "result": result,
            "org": result.organisation,
            "index": index,
            "answers": answers,
            "score": score,
            "fmt2": scoring.fmt2,
            "constraint_total": sum(1 for s in index.scenarios if s.constraint),
        }

    @expose("/<int:pk>/report.docx")
    @has_access
    def report(self, pk):
        """【下载】: the result as a Word document with the same content as the page."""
        from ..assessment_report import build_docx

        result = own_result(pk)
        if not result.submitted:
            abort(404)
        buf = io.BytesIO()
        build_docx(self._result_context(result)).save(buf)
        buf.seek(0)
        return send_file(
            buf,
            mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            as_attachment=True,
            download_name=_("Assessment result") + result.submitted_at.strftime("-%Y%m%d%H%M%S") + ".docx",
        )


def _band_hints(index):
    """For the questionnaire's live band pre-selection: {qid: rate-band spec} from the data file."""
    hints = {}
    for q in index.questions:
        if q.rate_band is not None:
            hints[q.id] = q.rate_band.as_dict()
    return hints
