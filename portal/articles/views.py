"""Pages of the knowledge base: home, search, categories, articles, the staff editor."""

from __future__ import annotations

import difflib
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import access, search
from portal import markdown as md
from portal.analytics import events
from portal.articles import proposals, workflow
from portal.articles.forms import (
    ArticleForm,
    FlagForm,
    ProposalForm,
    RestoreForm,
    TransitionForm,
    VoteForm,
)
from portal.articles.health import (
    helped_comments,
    needs_attention,
    not_helped_comments,
    review_due,
)
from portal.articles.models import PROPOSAL_STATUSES, Article, ArticleRevision, Category
from portal.articles.services import (
    ArticleData,
    ArticleError,
    article_events,
    cast_vote,
    category_counts,
    flag,
    gap_body,
    get_article,
    helped_counts,
    most_helpful,
    open_flags,
    record_view,
    resolve_flags,
    restore_revision,
    save_article,
    slugify,
    to_data,
    transition,
    visible_articles_stmt,
    voter_vote,
)
from portal.articles.shape import skeleton
from portal.extensions import db
from portal.forms import choices
from portal.incidents.services import solved_count
from portal.notifications.inbox import mark_revision_read

bp = Blueprint("articles", __name__, template_folder="templates")


@bp.before_request
def _public_kb_gate():
    """With PUBLIC_KB off, every knowledge-base page needs sign-in."""
    if not current_app.config["PUBLIC_KB"] and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()


def voter_key(create: bool = False) -> str | None:
    """One vote per signed-in user, or per browser session for anonymous readers."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    if "voter" not in session and create:
        session["voter"] = secrets.token_hex(12)
    return f"session:{session['voter']}" if "voter" in session else None


def _page_arg() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1000))
    except ValueError:
        return 1


@bp.get("/")
def home():
    """The search box, categories with their counts, and the most helpful articles."""
    return render_template(
        "articles/home.html",
        categories=category_counts(current_user),
        helpful=most_helpful(current_user),
    )


@bp.get("/search")
def search_page():
    """Search results with snippets, facets and a did-you-mean suggestion."""
    text = request.args.get("q", "")
    category = request.args.get("category") or None
    results = None
    helped: dict[int, int] = {}
    if text.strip():
        results = search.search(
            text,
            access.audience(current_user),
            category=category,
            page=_page_arg(),
            per_page=current_app.config["SEARCH_PER_PAGE"],
            facets=True,
        )
        helped = helped_counts([hit.article_id for hit in results.hits])
        events.record_search(text, results.total)
    names = {c.slug: c.name for c in db.session.scalars(select(Category))}
    return render_template(
        "articles/search.html",
        raise_url=url_for("incidents.new", q=text.strip()[:200]) if text.strip() else None,
        q=text,
        category=category,
        results=results,
        helped=helped,
        category_names=names,
    )


@bp.get("/categories/<slug>")
def category_page(slug: str):
    """Articles of one category, grouped by subcategory."""
    category = db.first_or_404(select(Category).where(Category.slug == slug))
    column = Article.category_id if category.parent_id is None else Article.subcategory_id
    articles = db.session.scalars(
        visible_articles_stmt(current_user).where(column == category.id).order_by(Article.title)
    ).all()
    if not articles and not access.is_staff(current_user):
        abort(404)  # a category holding only staff-only articles does not exist for others
    return render_template("articles/category.html", category=category, articles=articles)


def _load_visible(slug: str) -> Article:
    article = get_article(slug)
    if article is None or not access.can_see_article(current_user, article):
        abort(404)
    return article


@bp.get("/articles/<slug>")
def article_page(slug: str):
    """One article, rendered from its sanitised HTML, with "Did this solve your problem?"."""
    article = _load_visible(slug)
    record_view(article)
    events.record_open(article)
    return render_template(
        "articles/article.html",
        q=request.args.get("q", "")[:200],  # the search it came from: back link, header box
        article=article,
        body=md.safe(article.body_html),
        vote=voter_vote(article, voter_key()),
        related=(
            search.related_articles(article.id, access.audience(current_user))
            if article.status == "published"
            else []
        ),
        form=VoteForm(),
        solved=solved_count(article) if access.is_staff(current_user) else None,
        **(_staff_panel(article) if access.is_staff(current_user) else {}),
    )


def _staff_panel(article: Article) -> dict:
    """Health and workflow for staff on the article page."""
    form = TransitionForm()
    form.target.choices = choices(
        (s, workflow.LABELS[s]) for s in workflow.targets(article.status, current_user)
    )
    return {
        "transition_form": form,
        "flag_form": FlagForm(),
        "flags": open_flags(article),
        "not_helped_comments": not_helped_comments(article),
        "helped_comments": helped_comments(article),
        "review_due": review_due(article),
        "proposals": proposals.open_proposals(article),
    }


@bp.post("/articles/<slug>/vote")
def vote(slug: str):
    """Record Yes or No; a second vote by the same reader replaces the first."""
    article = _load_visible(slug)
    form = VoteForm()
    if not form.validate_on_submit() or article.status != "published":
        flash("Your vote could not be recorded. Please try again.", "error")
        return redirect(url_for(".article_page", slug=slug))
    helpful = bool(form.yes.data)
    cast_vote(
        article,
        voter_key(create=True),
        helpful,
        current_user if current_user.is_authenticated else None,
        form.comment.data or "",
    )
    events.record_vote(article, helpful)
    db.session.commit()
    if helpful:
        flash("Glad it helped. Thank you for telling us.", "success")
    else:
        flash("Sorry this did not solve it. You can search again or raise an incident.", "info")
    return redirect(url_for(".article_page", slug=slug, voted=1) + "#vote")


# -- staff editor ----------------------------------------------------------------------


def _category_tree(form: ArticleForm) -> dict[str, Category]:
    """Fill the category selects from the existing tree (no free text: a typed name once
    made a second top-level category); returns slug -> category."""
    tops = db.session.scalars(
        select(Category).where(Category.parent_id.is_(None)).order_by(Category.name)
    ).all()
    subs = [(top, sub) for top in tops for sub in top.children]
    form.category.choices = choices([("", "Choose a category"), *((c.slug, c.name) for c in tops)])
    form.subcategory.choices = choices(
        [("", "None"), *((sub.slug, f"{top.name} › {sub.name}") for top, sub in subs)]
    )
    return {c.slug: c for c in tops} | {sub.slug: sub for _, sub in subs}


def _form_data(
    form: ArticleForm, tree: dict[str, Category], article: Article | None
) -> ArticleData:
    category, sub = tree.get(form.category.data or ""), tree.get(form.subcategory.data or "")
    title = form.title.data.strip()
    slug = (form.slug.data or "").strip() or (article.slug if article else slugify(title))
    return ArticleData(
        slug=slug,
        title=title,
        summary=form.summary.data or "",
        body_md=form.body.data.replace("\r\n", "\n"),
        category=category.name if category else "",
        subcategory=sub.name if sub else "",
        tags=[t for t in (form.tags.data or "").split(",") if t.strip()],
        visibility=form.visibility.data,
        status=form.status.data,
        owner_email=(form.owner.data or "").strip(),
        reviewed_on=form.reviewed.data,
    )


def _fill(form: ArticleForm, data: ArticleData, tree: dict[str, Category]) -> None:
    by_name = {(c.parent.name if c.parent else "", c.name): slug for slug, c in tree.items()}
    form.title.data, form.slug.data, form.summary.data = data.title, data.slug, data.summary
    form.category.data = by_name.get(("", data.category), "")
    form.subcategory.data = by_name.get((data.category, data.subcategory), "")
    form.tags.data = ", ".join(data.tags or [])
    form.visibility.data, form.status.data = data.visibility, data.status
    form.owner.data, form.reviewed.data, form.body.data = (
        data.owner_email,
        data.reviewed_on,
        data.body_md,
    )


def _status_choices(article: Article | None) -> list[str]:
    """The statuses this user may pick in the editor: the current one and its next steps."""
    current = article.status if article else "draft"
    return [current, *workflow.targets(current, current_user)]


def _prefill_new(form: ArticleForm) -> None:
    """A new article starts from the section skeleton. /articles/new?title=...&q=...: a
    draft for a knowledge gap, its Symptoms the queries."""
    queries = [q[:200] for q in request.args.getlist("q") if q.strip()][:20]
    form.body.data = skeleton()
    if request.args.get("title"):
        form.title.data = request.args["title"][:200]
        form.slug.data = slugify(form.title.data)
    if queries:
        form.body.data = gap_body(queries)
        form.note.data = "Started from a knowledge gap"


def _editor(article: Article | None):
    access.require_staff()
    form = ArticleForm()
    tree = _category_tree(form)
    review = proposals.needs_review(article, current_user)
    mine = proposals.latest_of(article, current_user) if review else None
    if request.method == "GET" and article is not None:
        data = proposals.proposal_data(article, mine) if mine else to_data(article)
        _fill(form, data, tree)
    if request.method == "GET" and article is None:
        _prefill_new(form)
    allowed = _status_choices(article)
    form.status.choices = choices((s, workflow.LABELS[s]) for s in allowed)
    preview = None
    refused = False
    if form.validate_on_submit():
        if form.preview.data:
            preview = md.to_markup(form.body.data)
        elif review:
            try:
                proposal = proposals.propose(
                    article, _form_data(form, tree, article), current_user, form.note.data or ""
                )
            except ArticleError as exc:
                db.session.rollback()
                flash(f"Not sent: {exc}", "error")
                refused = True
            else:
                db.session.commit()
                if proposal is None:
                    flash("No changes to send.", "success")
                else:
                    flash(
                        f"Sent to the editors for review (revision {proposal.number}). Readers "
                        "keep seeing the published version until an editor approves it.",
                        "success",
                    )
                return redirect(url_for(".article_page", slug=article.slug))
        else:
            data = _form_data(form, tree, article)
            target, data.status = data.status, (article.status if article else "draft")
            try:
                saved, changed = save_article(
                    data,
                    current_user,
                    note=form.note.data or "",
                    article=article,
                    new=article is None,
                    create_categories=False,
                )
                if target != saved.status:
                    transition(saved, target, current_user, comment=form.note.data or "")
                    changed = True
            except ArticleError as exc:
                db.session.rollback()
                flash(f"Not saved: {exc}", "error")
                refused = True
            else:
                db.session.commit()
                flash("Saved." if changed else "No changes to save.", "success")
                return redirect(url_for(".article_page", slug=saved.slug))
    status = 400 if request.method == "POST" and (form.errors or refused) else 200
    return (
        render_template(
            "articles/edit.html",
            form=form,
            article=article,
            preview=preview,
            review=review,
            mine=mine,
        ),
        status,
    )


@bp.route("/articles/new", methods=["GET", "POST"])
@login_required
def new_article():
    """Write a new article."""
    return _editor(None)


@bp.route("/articles/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_article(slug: str):
    """Edit an article; saving keeps a revision with the note."""
    access.require_staff()
    return _editor(db.first_or_404(select(Article).where(Article.slug == slug)))


@bp.get("/articles/<slug>/history")
@login_required
def history(slug: str):
    """Every saved revision, newest first, with a diff between any two."""
    access.require_staff()
    article = db.first_or_404(select(Article).where(Article.slug == slug))
    revisions = article.revisions
    numbers = [r.number for r in revisions]
    diff = None
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if a in numbers and b in numbers:
        old = next(r for r in revisions if r.number == a)
        new = next(r for r in revisions if r.number == b)
        diff = _diff(old, new)
    return render_template(
        "articles/history.html",
        article=article,
        events=article_events(article),
        revisions=revisions,
        diff=diff,
        a=a,
        b=b,
        restore_form=RestoreForm(),
        can_restore=proposals.is_editor(current_user),
        live_number=next((r.number for r in revisions if not r.is_proposal), None),
    )


def _diff(old: ArticleRevision, new: ArticleRevision) -> list[tuple[str, str]]:
    def text(r: ArticleRevision) -> list[str]:
        return [f"# {r.title}", "", r.summary, "", *r.body_md.splitlines()]

    lines = difflib.unified_diff(
        text(old), text(new), f"revision {old.number}", f"revision {new.number}", lineterm=""
    )
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    return [(kinds.get(line[:1], "same"), line) for line in lines]


@bp.post("/articles/<slug>/restore/<int:number>")
@login_required
def restore(slug: str, number: int):
    """Bring an earlier revision back as the newest one (editors: it changes what readers see)."""
    access.require_role("editor")
    article = db.first_or_404(select(Article).where(Article.slug == slug))
    revision = db.first_or_404(
        select(ArticleRevision).where(
            ArticleRevision.article_id == article.id, ArticleRevision.number == number
        )
    )
    if RestoreForm().validate_on_submit():
        try:
            restore_revision(article, revision, current_user)
        except ArticleError as exc:
            db.session.rollback()
            flash(f"Not restored: {exc}", "error")
        else:
            db.session.commit()
            flash(f"Revision {number} restored.", "success")
    return redirect(url_for(".history", slug=article.slug))


def _load_proposal(slug: str, number: int) -> tuple[Article, ArticleRevision]:
    article = db.first_or_404(select(Article).where(Article.slug == slug))
    revision = db.first_or_404(
        select(ArticleRevision).where(
            ArticleRevision.article_id == article.id,
            ArticleRevision.number == number,
            ArticleRevision.status.in_(PROPOSAL_STATUSES),
        )
    )
    return article, revision


@bp.get("/articles/<slug>/proposals/<int:number>")
@login_required
def proposal(slug: str, number: int):
    """A proposed change to a published article, with its diff against the live text."""
    access.require_staff()
    article, revision = _load_proposal(slug, number)
    mark_revision_read(current_user, revision.id)
    return render_template(
        "articles/proposal.html",
        article=article,
        revision=revision,
        diff=proposals.diff(article, revision),
        stale=revision.status == "proposed" and proposals.is_stale(article, revision),
        form=ProposalForm(),
        can_decide=proposals.is_editor(current_user) and revision.status == "proposed",
    )


@bp.post("/articles/<slug>/proposals/<int:number>")
@login_required
def decide_proposal(slug: str, number: int):
    """Approve (the change goes live) or send back with a comment: editors only."""
    access.require_role("editor")
    article, revision = _load_proposal(slug, number)
    form = ProposalForm()
    if not form.validate_on_submit():
        flash("Choose approve or send back.", "error")
        return redirect(url_for(".proposal", slug=slug, number=number))
    try:
        if form.approve.data:
            saved = proposals.approve(article, revision, current_user, form.comment.data or "")
        else:
            proposals.send_back(article, revision, current_user, form.comment.data or "")
            saved = article
    except ArticleError as exc:
        db.session.rollback()
        flash(f"Not done: {exc}", "error")
        return redirect(url_for(".proposal", slug=slug, number=number))
    db.session.commit()
    if form.approve.data:
        flash(f"Approved: revision {number} is now what readers see.", "success")
        return redirect(url_for(".article_page", slug=saved.slug))
    flash(f"Sent back to {revision.editor.name if revision.editor else 'the author'}.", "success")
    return redirect(url_for(".attention"))


@bp.post("/articles/<slug>/transition")
@login_required
def change_status(slug: str):
    """Submit for review, send back, publish, archive or restore."""
    access.require_staff()
    article = db.first_or_404(select(Article).where(Article.slug == slug))
    form = TransitionForm()
    form.target.choices = choices((s, s) for s in workflow.LABELS)
    if not form.validate_on_submit():
        flash("Choose what to do with the article.", "error")
        return redirect(url_for(".article_page", slug=slug))
    replacement = None
    if form.replaced_by.data:
        replacement = get_article(form.replaced_by.data.strip())
        if replacement is None:
            flash(f"No article '{form.replaced_by.data}' to point to.", "error")
            return redirect(url_for(".article_page", slug=slug))
    try:
        event = transition(
            article, form.target.data, current_user, form.comment.data or "", replacement
        )
    except ArticleError as exc:
        db.session.rollback()
        flash(f"Not done: {exc}", "error")
    else:
        db.session.commit()
        flash(f"Article {event.action}.", "success")
    return redirect(url_for(".article_page", slug=slug))


@bp.post("/articles/<slug>/flag")
@login_required
def flag_article(slug: str):
    """Flag it or fix it: tell the editors what is wrong."""
    access.require_staff()
    article = db.first_or_404(select(Article).where(Article.slug == slug))
    form = FlagForm()
    try:
        if not form.validate_on_submit():
            raise ArticleError("say what is wrong with the article")
        flag(article, current_user, form.reason.data)
    except ArticleError as exc:
        db.session.rollback()
        flash(f"Not flagged: {exc}", "error")
    else:
        db.session.commit()
        flash("Flagged for the editors. Thank you.", "success")
    return redirect(url_for(".article_page", slug=slug))


@bp.post("/articles/<slug>/flags/resolve")
@login_required
def resolve_article_flags(slug: str):
    """Mark the flags on an article as dealt with."""
    access.require_role("editor")
    article = db.first_or_404(select(Article).where(Article.slug == slug))
    if RestoreForm().validate_on_submit():
        count = resolve_flags(article, current_user)
        db.session.commit()
        flash(f"{count} flags resolved.", "success")
    return redirect(url_for(".article_page", slug=slug))


@bp.get("/articles/attention")
@login_required
def attention():
    """The editors' list: proposed changes, articles that fail readers, flagged, overdue, or
    awaiting review."""
    access.require_role("editor")
    return render_template(
        "articles/attention.html", attention=needs_attention(), proposals=proposals.waiting()
    )


# -- the editor's live preview (issue 13 item 7; helper "editor") -------------------------

PREVIEW_MAX = 100_000  # the body's own limit (ArticleForm.body)


@bp.post("/articles/preview")
@login_required
def preview_markdown():
    """The body as readers will see it, rendered by the one Markdown + nh3 path
    (portal.markdown), for the editor's live preview. POST with the form's CSRF token; the
    page puts the answer in place as HTML, so it is never the browser's own rendering."""
    access.require_staff()
    text = request.form.get("body", "")
    if len(text) > PREVIEW_MAX:
        return f"The body is longer than {PREVIEW_MAX:,} characters.", 413
    response = current_app.make_response(str(md.to_markup(text.replace("\r\n", "\n"))))
    response.mimetype = "text/html"
    response.headers["Cache-Control"] = "no-store"
    return response


# -- images in articles (issue 13 item 7; helper "editor") --------------------------------


@bp.post("/articles/<slug>/images")
@login_required
def upload_image(slug: str):
    """Store an image pasted, dropped or chosen in the editor; answers JSON with the
    Markdown to insert (or the reason it was refused, 400). Staff who may edit, CSRF checked."""
    from flask import jsonify

    from portal.articles import images as article_images

    access.require_staff()
    article = db.first_or_404(select(Article).where(Article.slug == slug))
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return jsonify(error="Choose an image to upload."), 400
    try:
        data = upload.stream.read(article_images.MAX_BYTES + 1)
    finally:
        upload.close()
    try:
        image = article_images.save(article, current_user, upload.filename, data)
    except article_images.ImageError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 400
    db.session.commit()
    url = url_for(".article_image", slug=article.slug, image_id=image.id)
    return jsonify(
        url=url,
        markdown=article_images.markdown_for(image, url),
        width=image.width,
        height=image.height,
    ), 201


@bp.get("/articles/<slug>/images/<int:image_id>")
def article_image(slug: str, image_id: int):
    """An article's image, to whoever may read the article (404 to everyone else, as the
    article itself is)."""
    from flask import send_file

    from portal.articles import images as article_images

    article = _load_visible(slug)
    image = db.session.get(article_images.ArticleImage, image_id)
    if image is None or image.article_id != article.id:
        abort(404)
    path = article_images.path_of(image)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=image.content_type,
        download_name=image.filename,
        conditional=True,
        max_age=3600,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
