"""Who hears about what. Views call these after a change; each writes notifications in the
same transaction as the change. Nobody is notified of their own action, of a kind they
muted, or about an entry they may not see."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, literal, select

from ..extensions import db
from ..mentoring.models import Comment, Feedback, Notification, NotificationKind, NotificationSettings, Plan, PlanComment
from ..models import JournalEntry, User, Visibility, mentorships


def _methodists_of(author_id: int) -> set[int]:
    return set(db.session.scalars(
        select(mentorships.c.methodist_id).join(User, User.id == mentorships.c.methodist_id)
        .where(mentorships.c.librarian_id == author_id, User.active.is_(True))
    ))


def entry_audience(entry: JournalEntry, candidates: Iterable[int]) -> set[int]:
    """Those of `candidates` who may read `entry` (the rule of webapp.access, for a set of people)."""
    candidates = set(candidates)
    if entry.visibility == Visibility.COLLEAGUES:
        active = set(db.session.scalars(select(User.id).where(User.id.in_(candidates), User.active.is_(True))))
        return active
    allowed = {entry.author_id}
    if entry.visibility == Visibility.MENTORS:
        allowed |= _methodists_of(entry.author_id)
    return candidates & allowed


def _send(kind: NotificationKind, recipients: Iterable[int], *, actor_id: int, **target) -> None:
    recipients = set(recipients) - {actor_id}
    if not recipients:
        return
    # muted_kinds is "a,b,c": match whole names, so no kind is muted by another that contains it.
    listed = literal(",") + NotificationSettings.muted_kinds + literal(",")
    muted = set(db.session.scalars(
        select(NotificationSettings.user_id).where(
            NotificationSettings.user_id.in_(recipients),
            listed.contains(f",{kind.value},", autoescape=True),
        )
    ))
    rows = [{"recipient_id": r, "kind": kind.value, "actor_id": actor_id, **target} for r in sorted(recipients - muted)]
    if rows:
        db.session.execute(insert(Notification), rows)


def comment_added(comment: Comment, entry: JournalEntry) -> None:
    _send(NotificationKind.ENTRY_COMMENT, {entry.author_id}, actor_id=comment.author_id,
          entry_id=entry.id, comment_id=comment.id)
    earlier = set(db.session.scalars(
        select(Comment.author_id).where(Comment.entry_id == entry.id, Comment.id != comment.id).distinct()
    )) - {entry.author_id}
    _send(NotificationKind.THREAD_COMMENT, entry_audience(entry, earlier), actor_id=comment.author_id,
          entry_id=entry.id, comment_id=comment.id)


def status_set(feedback: Feedback, entry: JournalEntry) -> None:
    _send(NotificationKind.ENTRY_STATUS, {entry.author_id}, actor_id=feedback.methodist_id,
          entry_id=entry.id, comment_id=feedback.comment_id)


def entry_shared(entry: JournalEntry, was: str | None) -> None:
    """An entry became readable by the author's methodists (created shared, or opened up)."""
    if entry.visibility == Visibility.PRIVATE or (was is not None and was != Visibility.PRIVATE):
        return
    _send(NotificationKind.ENTRY_SHARED, _methodists_of(entry.author_id), actor_id=entry.author_id, entry_id=entry.id)


def plan_commented(comment: PlanComment, plan: Plan) -> None:
    _send(NotificationKind.PLAN_COMMENT, {plan.author_id}, actor_id=comment.author_id, plan_id=plan.id)
