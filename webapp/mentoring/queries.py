"""What a methodist's pages read: the desk's figures per mentee, the «awaiting feedback» list,
the statuses shown in an author's list, and the reading marks.

Every figure comes from a fixed number of statements (per-mentee lookups, NOT EXISTS), so the
desk costs the same for three mentees as for thirty."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Integer, ScalarSelect, Select, and_, bindparam, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from .. import access, database, prebuilt
from ..extensions import db
from ..models import JournalEntry, School, User, Visibility, mentorships, utcnow
from .models import Comment, EntryRead, Feedback

# A mentee with nothing new for this long stands out on the desk.
QUIET_AFTER_DAYS = 14
SHARED = (Visibility.MENTORS, Visibility.COLLEAGUES)


# Who a methodist mentors ------------------------------------------------------------------------

def active_mentee_ids(methodist: User) -> Select:
    """Ids of the methodist's mentees whose accounts are active (a deactivated person needs no answer)."""
    return (select(mentorships.c.librarian_id)
            .join(User, User.id == mentorships.c.librarian_id)
            .where(mentorships.c.methodist_id == methodist.id, User.active.is_(True)))


def awaiting_clause(methodist: User) -> ColumnElement[bool]:
    """An entry shared with the methodist that they have neither commented on nor marked."""
    commented = exists().where(Comment.entry_id == JournalEntry.id, Comment.author_id == methodist.id)
    marked = exists().where(Feedback.entry_id == JournalEntry.id, Feedback.methodist_id == methodist.id)
    return and_(JournalEntry.visibility.in_(SHARED), ~commented, ~marked)


def _awaiting_criteria(methodist: User, author_id: int | None) -> list[ColumnElement[bool]]:
    criteria = [JournalEntry.author_id.in_(active_mentee_ids(methodist)), awaiting_clause(methodist)]
    if author_id is not None:
        criteria.append(JournalEntry.author_id == author_id)
    return criteria


def awaiting_entries(methodist: User, author_id: int | None = None) -> Select[tuple[JournalEntry]]:
    """«Ждут ответа», oldest first, with author and school joined in: one statement."""
    return (select(JournalEntry).where(*_awaiting_criteria(methodist, author_id))
            .options(joinedload(JournalEntry.author).joinedload(User.school))
            .order_by(JournalEntry.created_at, JournalEntry.id))


def awaiting_count(methodist: User, author_id: int | None = None) -> int:
    return db.session.scalar(select(func.count(JournalEntry.id)).where(*_awaiting_criteria(methodist, author_id)))


def next_awaiting(methodist: User, after: JournalEntry, author_id: int | None = None) -> JournalEntry | None:
    """The awaiting entry that comes after `after` in the list; from the top again when it was the last."""
    query = awaiting_entries(methodist, author_id).where(JournalEntry.id != after.id)
    later = query.where((JournalEntry.created_at > after.created_at)
                        | and_(JournalEntry.created_at == after.created_at, JournalEntry.id > after.id))
    return db.session.scalar(later.limit(1)) or db.session.scalar(query.limit(1))


# The desk -------------------------------------------------------------------------------------------

@dataclass
class MenteeRow:
    mentee: Mentee
    last_entry_at: datetime | None = None
    last_activity_at: datetime | None = None
    awaiting: int = 0
    progress: object | None = None  # webapp.plans.progress.Progress, or None without a plan

    @property
    def quiet_days(self) -> int | None:
        """Days since the last activity; None when there has never been any."""
        if self.last_activity_at is None:
            return None
        return (utcnow() - self.last_activity_at).days

    @property
    def is_quiet(self) -> bool:
        days = self.quiet_days
        return days is None or days >= QUIET_AFTER_DAYS


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _newest_shared_entry(column: InstrumentedAttribute[datetime]) -> list[ScalarSelect]:
    """The mentee's newest `column` (created_at or updated_at) among entries of each shared visibility.

    One lookup per visibility, each an equality on (author_id, visibility) and one step from the end
    of an index ordered by `column`: its cost does not depend on how many entries the mentee wrote."""
    return [select(column).where(JournalEntry.author_id == User.id, JournalEntry.visibility == visibility)
            .order_by(column.desc()).limit(1).scalar_subquery() for visibility in SHARED]


def _newest_comment_the_methodist_may_read(methodist: User) -> ScalarSelect:
    """The mentee's newest comment on an entry the methodist may read (the mentee's own shared
    entries, and other librarians' as access.py allows): walked newest first through
    ix_comments_author_created, stopping at the first whose entry the methodist may read (it steps
    over only newer comments on entries out of their sight)."""
    readable = exists().where(JournalEntry.id == Comment.entry_id, access.entry_visible_clause(methodist))
    return (select(Comment.created_at).where(Comment.author_id == User.id, readable)
            .order_by(Comment.created_at.desc()).limit(1).scalar_subquery())


class Mentee(NamedTuple):
    id: int
    display_name: str
    school: str | None  # the school's name


@prebuilt.built_once
def _desk(methodist) -> Select:
    # One statement: each active mentee (one step in the mentorships' primary key, then the
    # person), with
    # - the latest moments, each a "newest first, LIMIT 1" lookup rather than a max() over all
    #   their entries and comments. An entry's updated_at is set on creation too, so the newest edit
    #   is never older than the newest entry; both are read anyway (two index steps);
    # - how many of their entries await an answer: NOT EXISTS in the count's WHERE, an anti-join on
    #   PostgreSQL (inside an aggregate's CASE it ran once per shared entry, 50 times slower). It
    #   reads each shared entry's index row and probes for an answer, so it grows with them.
    created, updated = _newest_shared_entry(JournalEntry.created_at), _newest_shared_entry(JournalEntry.updated_at)
    awaiting = select(func.count()).where(JournalEntry.author_id == User.id, awaiting_clause(methodist)).scalar_subquery()
    return (select(User.id, User.display_name, School.name, *created, *updated,
                   _newest_comment_the_methodist_may_read(methodist), awaiting)
            .select_from(mentorships).join(User, User.id == mentorships.c.librarian_id)
            .outerjoin(School, School.id == User.school_id)
            .where(mentorships.c.methodist_id == methodist.id, User.active.is_(True))
            .order_by(User.display_name, User.id))


def desk_rows(methodist: User) -> list[MenteeRow]:
    """Each active mentee with what the desk shows. One statement, built once (webapp.prebuilt),
    whatever the number of mentees and however long their history.

    Only what the methodist may read counts: a private entry is neither counted nor dated."""
    width = len(SHARED)
    rows = []
    for mentee_id, name, school, *latest, awaiting in database.run(_desk(), prebuilt.params_for(methodist)):
        rows.append(MenteeRow(mentee=Mentee(mentee_id, name, school), last_entry_at=_latest(*latest[:width]),
                              last_activity_at=_latest(*latest), awaiting=awaiting))
    return rows


# What the author sees -----------------------------------------------------------------------------

def latest_status(entry_id: ColumnElement[int]) -> ColumnElement[str | None]:
    """The latest methodist's status of the entry whose id is `entry_id`, as a column "status" of
    a list's statement: the author's own journal shows it by each entry."""
    return (select(Feedback.status).where(Feedback.entry_id == entry_id)
            .order_by(Feedback.updated_at.desc(), Feedback.methodist_id.desc()).limit(1)
            .scalar_subquery().label("status"))


@dataclass
class Verdict:
    methodist_id: int
    name: str
    status: str
    at: datetime


@dataclass
class ReadMark:
    name: str
    first_read_at: datetime | None


# The entry page's panel asks these two on every view: built once, the entry as bound parameters.
_ENTRY_ID, _AUTHOR_ID = bindparam("entry_id", type_=Integer), bindparam("author_id", type_=Integer)
_VERDICTS = (select(Feedback.methodist_id, User.display_name, Feedback.status, Feedback.updated_at)
             .join(User, User.id == Feedback.methodist_id)
             .where(Feedback.entry_id == _ENTRY_ID).order_by(Feedback.updated_at.desc()))
_READ_MARKS = (select(User.display_name, EntryRead.first_read_at)
               .select_from(mentorships)
               .join(User, User.id == mentorships.c.methodist_id)
               .outerjoin(EntryRead, and_(EntryRead.entry_id == _ENTRY_ID, EntryRead.user_id == User.id))
               .where(mentorships.c.librarian_id == _AUTHOR_ID, User.active.is_(True))
               .order_by(User.display_name, User.id))


def verdicts_on(entry_id: int) -> list[Verdict]:
    return [Verdict(*row) for row in database.run(_VERDICTS, {"entry_id": entry_id})]


def read_marks(entry: JournalEntry) -> list[ReadMark]:
    """Whether and when each of the author's current methodists first opened the entry."""
    return [ReadMark(*row) for row in database.run(_READ_MARKS, {"entry_id": entry.id, "author_id": entry.author_id})]


def record_read(entry_id: int, user_id: int) -> None:
    """Note that a methodist opened the entry, once (the first time is what the author sees).

    Opened before: nothing is written. Else a write during a GET: on SQLite a read transaction
    that later writes cannot wait for a busy writer and fails at once, so the read transaction
    ends here and the INSERT is the first statement of its own transaction, which waits its turn
    like any writer (and does nothing if another request wrote the mark meanwhile)."""
    if db.session.scalar(select(exists().where(EntryRead.entry_id == entry_id, EntryRead.user_id == user_id))):
        return
    db.session.commit()
    with database.bookkeeping():
        db.session.execute(
            database.insert_on_conflict(EntryRead)
            .values(entry_id=entry_id, user_id=user_id, first_read_at=utcnow())
            .on_conflict_do_nothing(index_elements=[EntryRead.entry_id, EntryRead.user_id])
        )
