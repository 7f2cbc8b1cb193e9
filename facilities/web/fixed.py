"""The sender's one-click answer to "is it fixed?" (requests.follow_up asks by e-mail).

GET only shows the question with buttons (mail scanners follow links; they do not press
buttons); POST records the answer, once.
"""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_babel import gettext as _

from facilities.core.db import get_session
from facilities.core.models import utcnow
from facilities.extensions import limiter
from facilities.requests.follow_up import FixedLinkNotValid, answer_fixed, fixed_question
from facilities.web.access import public
from facilities.web.public import blueprint

ANSWERS = ("yes", "no")


def _not_valid(error: FixedLinkNotValid):
    return make_response(render_template("public/fixed_invalid.html", reason=error.reason), 410)


@blueprint.get("/fixed/<token>")
@public
def fixed_page(token: str):
    db = get_session()
    try:
        question = fixed_question(db, raw=token, now=utcnow())
    except FixedLinkNotValid as error:
        return _not_valid(error)
    chosen = request.args.get("answer", "")
    return render_template(
        "public/fixed.html",
        token=token,
        service_request=question.service_request,
        answered=question.answer,
        chosen=chosen if chosen in ANSWERS else "",
        error="",
    )


@blueprint.post("/fixed/<token>")
@public
@limiter.limit("30 per hour")
def answer_fixed_page(token: str):
    db = get_session()
    answer = request.form.get("answer", "")
    now = utcnow()
    try:
        if answer not in ANSWERS:
            question = fixed_question(db, raw=token, now=now)
            return render_template(
                "public/fixed.html",
                token=token,
                service_request=question.service_request,
                answered=question.answer,
                chosen="",
                error=_("Choose one of the two answers."),
            ), 422
        result = answer_fixed(db, raw=token, fixed=answer == "yes", now=now)
    except FixedLinkNotValid as error:
        db.rollback()
        return _not_valid(error)
    db.commit()
    return render_template(
        "public/fixed_thanks.html",
        service_request=result.service_request,
        answer=result.answer or answer,
        earlier=result.answer is not None,
    )
