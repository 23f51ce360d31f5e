"""Incident pages: raise from a failed search, my incidents, the agent queue, the incident."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from portal import access, search, settings
from portal.accounts.models import User, UserRole
from portal.analytics import events
from portal.articles.models import Article, Category
from portal.extensions import db
from portal.forms import choices
from portal.incidents import attachments, history, services, tried
from portal.incidents import queue as queue_rules
from portal.incidents.forms import (
    AssignForm,
    CommentForm,
    RaiseForm,
    ResolveForm,
    ShareForm,
    SimpleForm,
    StatusForm,
    TriageForm,
)
from portal.incidents.models import (
    OPEN_STATUSES,
    STATUS_LABELS,
    Attachment,
    Incident,
)
from portal.incidents.priority import LEVELS, matrix_to_json
from portal.incidents.services import REASON_MAX
from portal.incidents.similar import similar_open
from portal.incidents.workflow import targets
from portal.notifications.inbox import mark_incident_read

bp = Blueprint("incidents", __name__, url_prefix="/incidents", template_folder="templates")

PER_PAGE = 25
KNOWN_KEY = "known_issues"  # the references this browser was offered to follow
KNOWN_MAX = 50


def _load(ref: str) -> Incident:
    """The incident, or 404 for anyone who may not see it (no hint that it exists)."""
    incident = services.get_by_ref(ref)
    if incident is None or not access.can_see_incident(current_user, incident):
        abort(404)
    return incident


def _store_files(incident, files, comment_id=None, internal=False) -> list[str]:
    problems = []
    for upload in files or []:
        if not upload or not upload.filename:
            continue
        try:
            attachments.save(
                incident,
                current_user,
                upload.filename,
                upload.stream,
                comment_id=comment_id,
                internal=internal,
            )
        except attachments.AttachmentError as exc:
            problems.append(str(exc))
    return problems


# -- raising ---------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Raise an incident, pre-filled from the search; a last look at matching articles,
    unless they were already shown while typing. Chosen files are never asked for twice."""
    form = RaiseForm()
    if request.method == "GET":
        trail = events.context()
        last = trail["queries"][-1]["q"] if trail["queries"] else ""
        form.title.data = (request.args.get("q") or last)[:200]
    hits = search.suggestions(
        form.title.data or "", form.description.data or "", access.audience(current_user)
    )
    known = similar_open(form.title.data or "")
    unseen_known = [i for i in known if i.ref not in session.get(KNOWN_KEY, [])]
    _offer(known)
    held = attachments.held(current_user, form.held.data or []) if form.is_submitted() else []
    if form.validate_on_submit():
        seen = form.checked.data == "1" or (form.checked.data == "live" and not unseen_known)
        if not seen and (hits or known):
            form.checked.data = "1"
            held += _hold_files(form, form.attachments.data)
            return _raise_form(form, held, hits, known, confirm=True)
        try:
            incident = services.raise_incident(
                current_user,
                form.title.data,
                form.description.data,
                search_context=events.context(),
            )
        except services.IncidentError as exc:
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            attachments.attach_held(incident, held)
            problems = _store_files(incident, form.attachments.data)
            events.incident_raised(incident)
            db.session.commit()
            for problem in problems:
                flash(f"Not attached: {problem}", "error")
            flash(f"Incident {incident.ref} raised. We will get back to you.", "success")
            return redirect(url_for(".detail", ref=incident.ref))
    if form.is_submitted():
        held += _hold_files(form, form.attachments.data)
    return _raise_form(form, held, hits, known, confirm=False)


def _hold_files(form: RaiseForm, files) -> list:
    """Keep the files of a form shown again; a refused one is named under the file field."""
    kept = []
    for upload in files or []:
        if not upload or not upload.filename:
            continue
        try:
            kept.append(attachments.hold(current_user, upload.filename, upload.stream))
        except attachments.AttachmentError as exc:
            form.attachments.errors = [*form.attachments.errors, f"Not attached: {exc}"]
    db.session.commit()
    return kept


def _raise_form(form: RaiseForm, held: list, hits, known, confirm: bool):
    form.held.choices = [(p.token, f"{p.filename} ({_size(p.size)})") for p in held]
    form.held.data = [p.token for p in held]
    page = render_template("incidents/new.html", form=form, hits=hits, known=known, confirm=confirm)
    return page, 400 if form.errors else 200


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


@bp.get("/similar")
@login_required
def similar_known():
    """Similar open incidents for a title being typed (the raise form's live list)."""
    known = similar_open(request.args.get("q", "")[:200])
    _offer(known)
    return render_template("incidents/_known.html", known=known, form=RaiseForm())


def _offer(known: list[Incident]) -> None:
    """Remember the known issues shown to this browser: only those may be followed, so a
    guessed reference never opens someone else's incident."""
    if not known:
        return
    refs = [i.ref for i in known]
    earlier = [r for r in session.get(KNOWN_KEY, []) if r not in refs]
    offered = (earlier + refs)[-KNOWN_MAX:]
    if offered != session.get(KNOWN_KEY):  # an unchanged session is not sent again
        session[KNOWN_KEY] = offered


@bp.post("/<ref>/follow")
@login_required
def follow(ref: str):
    """Follow a known issue instead of raising the same incident again."""
    incident = services.get_by_ref(ref)
    if (
        incident is None
        or not incident.is_open
        or not (
            incident.ref in session.get(KNOWN_KEY, [])
            or access.can_see_incident(current_user, incident)
        )
    ):
        abort(404)
    if SimpleForm().validate_on_submit():
        if services.follow(incident, current_user):
            db.session.commit()
            flash(f"You now follow {incident.ref}; we will tell you when it changes.", "success")
        else:
            flash(f"You already hear about {incident.ref} when it changes.", "info")
    return redirect(url_for(".detail", ref=incident.ref))


@bp.post("/<ref>/unfollow")
@login_required
def unfollow(ref: str):
    """Stop hearing about an incident one followed."""
    incident = _load(ref)
    if SimpleForm().validate_on_submit() and services.unfollow(incident, current_user):
        db.session.commit()
        flash(f"You no longer follow {incident.ref}.", "success")
        return redirect(url_for(".mine"))
    return _back(incident)


@bp.post("/<ref>/share")
@login_required
def share(ref: str):
    """The requester shares the incident with a named colleague."""
    incident = _load(ref)
    form = ShareForm()
    if not form.validate_on_submit():
        flash("Type the mail address of the colleague to share it with.", "error")
        return _back(incident)
    try:
        colleague = services.share(incident, current_user, form.email.data)
        db.session.commit()
    except services.IncidentError as exc:
        _refused(exc)
    else:
        flash(f"{colleague.name} can now read and answer {incident.ref}.", "success")
    return _back(incident)


@bp.post("/<ref>/unshare/<int:user_id>")
@login_required
def unshare(ref: str, user_id: int):
    """The requester takes a share back."""
    incident = _load(ref)
    if SimpleForm().validate_on_submit():
        try:
            if services.unshare(incident, current_user, user_id):
                db.session.commit()
                flash("No longer shared.", "success")
        except services.IncidentError as exc:
            _refused(exc)
    return _back(incident)


# -- lists -----------------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    """My incidents (raised or followed), newest first."""
    stmt = access.incidents_visible_to(current_user, select(Incident))
    if current_user.is_staff:
        stmt = stmt.where(Incident.requester_id == current_user.id)
    page = db.paginate(stmt.order_by(Incident.id.desc()), per_page=PER_PAGE, error_out=False)
    relations = {i.id: access.incident_relation(current_user, i) for i in page.items}
    return render_template(
        "incidents/mine.html", page=page, labels=STATUS_LABELS, relations=relations
    )


@bp.route("/queue", methods=["GET", "POST"])
@login_required
def queue():
    """The agents' queue, most urgent due time first, with filters and bulk assignment."""
    access.require_staff()
    agents = _agents()
    if request.method == "POST":
        form = AssignForm()
        form.assignee.choices = _assignee_choices(agents)
        ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
        if not ids:
            flash("Select the incidents to assign first.", "error")
        elif not form.validate_on_submit():
            flash("Choose an agent to assign them to.", "error")
        else:
            target = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
            chosen = list(db.session.scalars(select(Incident).where(Incident.id.in_(ids))))
            try:
                for incident in chosen:
                    services.assign(incident, target, current_user)
                db.session.commit()
            except services.IncidentError as exc:
                _refused(exc)
            else:
                count = len(chosen)
                flash(f"{count} incident{'' if count == 1 else 's'} assigned.", "success")
        return redirect(url_for(".queue", **request.args))
    page = _queue_page()
    form = AssignForm()
    form.assignee.choices = _assignee_choices(agents)
    categories = db.session.scalars(
        select(Category).where(Category.parent_id.is_(None)).order_by(Category.name)
    ).all()
    return render_template(
        "incidents/queue.html",
        **_queue_rows_context(page),
        form=form,
        agents=agents,
        categories=categories,
        args=request.args,
        refresh=current_app.config["QUEUE_REFRESH_SECONDS"],
    )


@bp.get("/queue/live")
@login_required
def queue_live():
    """The queue's rows and counts for the same filters, for the page to refresh in place."""
    access.require_staff()
    page = _queue_page()
    rows = render_template("incidents/_queue_rows.html", **_queue_rows_context(page))
    open_count = db.session.scalar(
        select(func.count(Incident.id)).where(Incident.status.in_(OPEN_STATUSES))
    )
    response = jsonify(
        {"count": page.total, "summary": _count_text(page.total), "open": open_count, "rows": rows}
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _queue_page():
    filters = queue_rules.Filters.from_args(request.args)
    stmt = queue_rules.statement(filters, current_user.id)
    return db.paginate(stmt, per_page=PER_PAGE, error_out=False)


def _queue_rows_context(page) -> dict:
    return {
        "page": page,
        "sla": {i.id: services.sla_status(i) for i in page.items},
        "updated": queue_rules.last_activity(page.items),
        "age": queue_rules.age,
        "labels": STATUS_LABELS,
        "count_text": _count_text(page.total),
    }


def _count_text(total: int | None) -> str:
    total = total or 0
    if total == 1:
        return "1 incident matches these filters"
    return f"{total} incidents match these filters"


def _agents() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role.in_(("agent", "admin")), User.is_active_account.is_(True))
            .group_by(User.id)
            .order_by(User.name)
        )
    )


def _assignee_choices(agents):
    return choices([("", "Nobody")] + [(str(a.id), a.name) for a in agents])


# -- the incident ----------------------------------------------------------------------


@bp.get("/<ref>")
@login_required
def detail(ref: str):
    """The incident: conversation, history, SLA and, for staff, triage and suggestions; a
    follower gets the public view only."""
    incident = _load(ref)
    staff = access.is_staff(current_user)
    comments = [c for c in incident.comments if access.can_see_comment(current_user, c)]
    files = [a for a in incident.attachments if access.can_see_attachment(current_user, a)]
    links = [
        link
        for link in incident.article_links
        if staff or access.can_see_article(current_user, link.article)
    ]
    if access.incident_relation(current_user, incident) == access.FOLLOWER:
        return render_template(
            "incidents/followed.html",
            incident=incident,
            updates=comments,
            links=links,
            events=history.visible_events(current_user, incident),
            actor_name=lambda e: history.actor_name(current_user, incident, e),
            labels=STATUS_LABELS,
            simple_form=SimpleForm(),
        )
    # Each file is shown with the message it came with; the rest came with the incident.
    shown = {c.id for c in comments}
    by_comment: dict[int, list[Attachment]] = {}
    for item in files:
        if item.comment_id in shown:
            by_comment.setdefault(item.comment_id, []).append(item)
    context = {
        "incident": incident,
        "comments": comments,
        "files": [a for a in files if a.comment_id not in shown],
        "files_by_comment": by_comment,
        "image_types": attachments.IMAGE_TYPES,
        "staff": staff,
        "labels": STATUS_LABELS,
        "comment_form": CommentForm(),
        "simple_form": SimpleForm(),
        "events": history.visible_events(current_user, incident),
        "links": links,
    }
    if staff:
        context.update(_staff_context(incident))
        mark_incident_read(current_user, incident.id)
    else:
        context["can_confirm"] = (
            incident.status == "resolved" and incident.requester_id == current_user.id
        )
        context["show_priority"] = bool(settings.get("requesters_see_priority"))
        mine = incident.requester_id == current_user.id
        context["can_reopen"] = mine and incident.status in ("resolved", "closed")
        context["status_form"] = StatusForm()
        context["share_form"] = ShareForm() if mine else None
    return render_template("incidents/detail.html", **context)


def _staff_context(incident: Incident) -> dict:
    triage = TriageForm(obj=None)
    categories = db.session.scalars(select(Category).order_by(Category.name)).all()
    tops = [c for c in categories if c.parent_id is None]
    triage.category.choices = choices([("", "(none)")] + [(c.slug, c.name) for c in tops])
    # Grouped under their category (optgroups), so the list reads without JavaScript too;
    # portal.js shows only the chosen category's group.
    subs = sorted((c for c in categories if c.parent_id), key=lambda c: (c.parent.name, c.name))
    triage.subcategory.choices = [SelectChoice("", "(none)")] + [
        SelectChoice(
            c.slug, c.name, render_kw={"data-parent": c.parent.slug}, optgroup=c.parent.name
        )
        for c in subs
    ]
    triage.category.data = incident.category.slug if incident.category else ""
    triage.subcategory.data = incident.subcategory.slug if incident.subcategory else ""
    triage.impact.data, triage.urgency.data = incident.impact, incident.urgency
    assign = AssignForm()
    assign.assignee.choices = _assignee_choices(_agents())
    assign.assignee.data = str(incident.assignee_id or "")
    status = StatusForm()
    allowed = [s for s in targets(incident.status, "agent") if s != "resolved"]
    status.status.choices = choices((s, STATUS_LABELS[s]) for s in allowed)
    suggested = search.suggestions(incident.title, incident.description_md[:500], access.STAFF)
    linked = {link.article_id for link in incident.article_links}
    return {
        "triage_form": triage,
        "assign_form": assign,
        "status_form": status,
        "can_move": bool(allowed),
        "can_resolve": "resolved" in targets(incident.status, "agent"),
        "suggested": [h for h in suggested if h.article_id not in linked],
        "sla": services.sla_status(incident),
        "tried": tried.scope(incident.search_context, incident.title, incident.description_md),
        "matrix": priority_matrix(),
        "matrix_levels": LEVELS,
    }


def priority_matrix() -> dict[str, dict[str, str]]:
    """The matrix as {impact: {urgency: priority}}: shown on the page and read by portal.js
    to preview the priority before saving (the server computes it again on save)."""
    return matrix_to_json(settings.matrix())


def _back(incident: Incident):
    return redirect(url_for(".detail", ref=incident.ref))


def _refused(exc: Exception):
    db.session.rollback()
    flash(f"Not done: {exc}", "error")


@bp.post("/<ref>/comments")
@login_required
def comment(ref: str):
    """A public reply or an internal note, with optional attachments."""
    incident = _load(ref)
    form = CommentForm()
    if not form.validate_on_submit():
        flash("Write a message before sending.", "error")
        return _back(incident)
    internal = bool(form.internal.data) and access.is_staff(current_user)
    for_followers = bool(form.for_followers.data) and access.is_staff(current_user)
    try:
        note = services.add_comment(
            incident, current_user, form.body.data, internal=internal, for_followers=for_followers
        )
    except services.IncidentError as exc:
        _refused(exc)
        return _back(incident)
    problems = _store_files(incident, form.attachments.data, note.id, internal)
    db.session.commit()
    for problem in problems:
        flash(f"Not attached: {problem}", "error")
    done = "Update sent." if for_followers else "Reply sent."
    flash("Internal note added." if internal else done, "success")
    return _back(incident)


@bp.post("/<ref>/triage")
@login_required
def triage(ref: str):
    """Set category, subcategory, impact and urgency; the priority and due times follow."""
    access.require_staff()
    incident = _load(ref)
    form = TriageForm()
    if form.validate_on_submit():
        try:
            services.triage(
                incident,
                current_user,
                category=form.category.data or None,
                subcategory=form.subcategory.data or None,
                impact=form.impact.data,
                urgency=form.urgency.data,
            )
            db.session.commit()
            flash(f"Triage saved: priority {incident.priority}.", "success")
        except services.IncidentError as exc:
            _refused(exc)
    else:
        flash(
            "Triage not saved: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()),
            "error",
        )
    return _back(incident)


@bp.post("/<ref>/assign")
@login_required
def assign(ref: str):
    """Assign to an agent (or to nobody)."""
    access.require_staff()
    incident = _load(ref)
    form = AssignForm()
    form.assignee.choices = _assignee_choices(_agents())
    if form.validate_on_submit():
        target = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
        try:
            services.assign(incident, target, current_user)
            db.session.commit()
            flash(f"Assigned to {target.name}." if target else "Unassigned.", "success")
        except services.IncidentError as exc:
            _refused(exc)
    else:
        flash("Choose an agent from the list.", "error")
    return _back(incident)


@bp.post("/<ref>/assign-me")
@login_required
def assign_me(ref: str):
    """Take the incident."""
    access.require_staff()
    incident = _load(ref)
    if SimpleForm().validate_on_submit():
        services.assign(incident, current_user, current_user)
        db.session.commit()
        flash("Assigned to you.", "success")
    return _back(incident)


@bp.post("/<ref>/status")
@login_required
def status(ref: str):
    """Move the status: agents along the table; requesters confirm or reopen."""
    incident = _load(ref)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.change_status(
                incident, form.status.data, current_user, reason=form.reason.data or ""
            )
            db.session.commit()
            flash(f"Status: {incident.status_label}.", "success")
        except services.IncidentError as exc:
            _refused(exc)
    elif form.reason.errors:
        flash(f"Status not changed: the reason is longer than {REASON_MAX} characters.", "error")
    else:
        flash("Choose a status.", "error")
    return _back(incident)


@bp.route("/<ref>/resolve", methods=["GET", "POST"])
@login_required
def resolve(ref: str):
    """Resolve with a solution, linking articles used or drafting a new one.

    The article search is a button of the same form: it posts what was typed and comes back
    with it (and the articles already ticked), so a search never wipes a solution, with or
    without JavaScript. Searching changes nothing; only Resolve does."""
    access.require_staff()
    incident = _load(ref)
    form = ResolveForm()
    searching = request.method == "POST" and "find" in request.form
    aq = (request.form.get("aq") if request.method == "POST" else request.args.get("aq")) or ""
    aq = aq.strip()[:200]
    found = search.search(aq or incident.title, access.STAFF, per_page=8, suggest=False).hits
    chosen = [int(i) for i in request.form.getlist("article_ids") if i.isdigit()]
    if not searching and form.validate_on_submit():
        try:
            draft = services.resolve(
                incident,
                current_user,
                form.solution.data,
                article_ids=chosen,
                create_article=bool(form.create_article.data),
                no_article_reason=form.no_article_reason.data or "",
            )
            db.session.commit()
        except services.IncidentError as exc:
            _refused(exc)
        else:
            flash(f"{incident.ref} resolved.", "success")
            if draft is not None:
                flash(f"Draft article '{draft.title}' created and waiting for an editor.", "info")
                return redirect(url_for("articles.edit_article", slug=draft.slug))
            return _back(incident)
    if searching:
        form.solution.errors = []  # not a failed resolve: nothing to correct yet
    shown = {hit.article_id for hit in found}
    kept = [
        a
        for a in db.session.scalars(select(Article).where(Article.id.in_(chosen)))
        if a.id not in shown and access.can_see_article(current_user, a)
    ]
    status = 400 if request.method == "POST" and not searching else 200
    return render_template(
        "incidents/resolve.html",
        incident=incident,
        form=form,
        found=found,
        kept=kept,
        aq=aq,
        chosen=chosen,
    ), status


@bp.post("/<ref>/suggestions/<int:article_id>/<action>")
@login_required
def use_suggestion(ref: str, article_id: int, action: str):
    """One click on a suggested article: link it, or send it to the requester (counted)."""
    access.require_staff()
    incident = _load(ref)
    article = db.get_or_404(Article, article_id)
    if action not in ("link", "send") or not SimpleForm().validate_on_submit():
        abort(400)
    try:
        if action == "link":
            services.link_article(incident, article.id, current_user)
        else:
            if not access.can_see_article(incident.requester, article):
                hidden = "for staff only" if article.visibility != "everyone" else "not published"
                raise services.IncidentError(
                    f"this article is {hidden}; the requester could not open it"
                )
            url = url_for("articles.article_page", slug=article.slug, _external=True)
            services.add_comment(
                incident,
                current_user,
                f"This article should fix it: [{article.title}]({url})\n\n"
                "Please try it and tell us whether it worked.",
            )
        services.record_suggestion_click(incident, current_user, article, action)
        db.session.commit()
        flash(
            "Article linked." if action == "link" else "Article sent to the requester.", "success"
        )
    except services.IncidentError as exc:
        _refused(exc)
    return _back(incident)


@bp.get("/<ref>/attachments/<int:attachment_id>")
@login_required
def attachment(ref: str, attachment_id: int):
    """Serve a file only to those who may see it; never rendered inline unless an image."""
    incident = _load(ref)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.incident_id != incident.id:
        abort(404)
    if not access.can_see_attachment(current_user, item):
        abort(404)
    path = attachments.path_of(item)
    if not path.is_file():
        abort(404)
    inline = item.content_type in attachments.IMAGE_TYPES or item.content_type == "application/pdf"
    response = send_file(
        path, mimetype=item.content_type, as_attachment=not inline, download_name=item.filename
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
