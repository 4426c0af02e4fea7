"""The rows of the benchmark's databases, built in id order with explicit ids and inserted in
batches through the app's models (`db.session.execute(insert(Model), rows)`)."""
from __future__ import annotations

import random
import time
import zlib
from collections import Counter
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import event, insert, text
from werkzeug.security import generate_password_hash

from webapp.groups.models import Group, GroupMember, Post, Thread, ThreadState
from webapp.groups.nav import nav_state
from webapp.mentoring.models import Comment, EntryRead, Feedback, Notification, Plan, PlanStep
from webapp.models import EntryTag, JournalEntry, School, User, mentorships
from webapp.rendered import rendered_fields

from .seed import BATCH, ENTRY_COMMENTS, MENTEES_OF_BENCH_METHODIST, PASSWORD, Fixture, Size
from .text import RussianText


def _fast_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MB while seeding
    cursor.close()


# The seeder --------------------------------------------------------------------------------------------

class Seeder:
    """Builds rows in id order with explicit ids, and inserts them in batches through the models."""

    def __init__(self, app: Flask, size: Size) -> None:
        self.app, self.size = app, size
        self.rng = random.Random(f"rost-bench-{size.name}")
        self.text = RussianText(seed=zlib.crc32(size.name.encode()))
        self.now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
        self.start = self.now - timedelta(days=3 * 365)
        self.counts: dict[str, int] = {}
        self._rendered: dict[str, str] = {}

    # helpers
    def _html(self, body: str) -> str:
        """What the app stores beside a comment's or post's Markdown. They repeat (a few hundred
        distinct texts), so each is rendered once; every entry is rendered (rendered_fields)."""
        if body not in self._rendered:
            self._rendered[body] = rendered_fields(body, excerpt=False)["body_html"]
        return self._rendered[body]

    def _insert(self, model, rows: list[dict]) -> None:
        from webapp.extensions import db

        for start in range(0, len(rows), BATCH):
            db.session.execute(insert(model), rows[start:start + BATCH])
        name = getattr(model, "__tablename__", None) or model.name
        self.counts[name] = self.counts.get(name, 0) + len(rows)

    def _at(self, fraction: float) -> datetime:
        return self.start + (self.now - self.start) * fraction

    def run(self) -> Fixture:
        from webapp.extensions import db

        dialect = db.engine.dialect.name
        if dialect == "sqlite":  # seeding only: the served app keeps its own durable settings
            db.session.remove()
            db.engine.dispose()
            event.listen(db.engine, "connect", _fast_sqlite)
        size, rng = self.size, self.rng
        started = time.monotonic()

        # People and schools
        schools = max(3, size.librarians // 5)
        self._insert(School, [{"id": i + 1, "name": f"МОУ СОШ № {i + 1}", "created_at": self.start}
                              for i in range(schools)])
        hashed = generate_password_hash(PASSWORD, method=self.app.config["PASSWORD_HASH_METHOD"])
        users = [self._user(1, "bench.admin", "Администратор Rost", "admin", None, hashed)]
        self.methodists = list(range(2, 2 + size.methodists))
        for n, uid in enumerate(self.methodists):
            users.append(self._user(uid, f"metodist{n + 1:03d}", self.text.person(uid), "methodist", None, hashed))
        first = 2 + size.methodists
        self.librarians = list(range(first, first + size.librarians))
        for n, uid in enumerate(self.librarians):
            users.append(self._user(uid, f"bibl{n + 1:04d}", self.text.person(uid), "librarian", n % schools + 1, hashed))
        self._insert(User, users)
        lib = self.librarians
        persona, commenter, sink_author, early = lib[0], lib[1], lib[2], lib[3:5]
        bench_methodist = self.methodists[0]

        # Mentorships: the benchmarked methodist has the first ten; the others share the rest.
        self.mentors: dict[int, list[int]] = {uid: [] for uid in lib}
        for uid in lib[:MENTEES_OF_BENCH_METHODIST]:
            self.mentors[uid].append(bench_methodist)
        rest, others = lib[MENTEES_OF_BENCH_METHODIST:], self.methodists[1:]
        if rest:
            block = -(-len(rest) // len(others))
            for n, uid in enumerate(rest):
                self.mentors[uid].append(others[n // block])
        else:  # small: the second methodist shares half of them
            for uid in lib[len(lib) // 2:]:
                self.mentors[uid].append(others[0])
        self._insert(mentorships, [{"methodist_id": m, "librarian_id": uid, "created_at": self.start}
                                   for uid, ms in self.mentors.items() for m in ms])

        # Journal entries: ids in time order; the persona writes a fixed number of them.
        authors = [persona] * size.persona_entries + [rng.choice(lib[1:]) for _ in range(size.entries - size.persona_entries)]
        rng.shuffle(authors)
        self.entry_author, self.entry_vis, self.entry_at = [], [], []
        self.by_author: dict[int, list[int]] = {}
        entry_rows, tag_rows = [], []
        entry_with_comments = sink_entry = None
        for n, author in enumerate(authors):
            eid = n + 1
            at = self._at((n + 1) / (len(authors) + 1))
            vis = rng.choices(("private", "mentors", "colleagues"), weights=(2, 5, 3))[0]
            if author == persona and entry_with_comments is None and n >= len(authors) // 2:
                entry_with_comments, vis = eid, "mentors"
            elif author == sink_author and sink_entry is None:
                sink_entry, vis = eid, "colleagues"
            body = self.text.entry_body()
            entry_rows.append({"id": eid, "author_id": author, "title": self.text.title(), "body": body,
                               **rendered_fields(body, excerpt=True), "visibility": vis, "created_at": at, "updated_at": at, "version": 1, "step_id": None})
            tag_rows.extend({"entry_id": eid, "author_id": author, "name": t} for t in self.text.tags())
            self.entry_author.append(author)
            self.entry_vis.append(vis)
            self.entry_at.append(at)
            self.by_author.setdefault(author, []).append(eid)
            if len(entry_rows) >= BATCH:
                self._insert(JournalEntry, entry_rows)
                entry_rows = []
        self._insert(JournalEntry, entry_rows)
        self._insert(EntryTag, tag_rows)
        if sink_entry is None:  # the sink author wrote nothing by chance: give them one
            raise RuntimeError("the sink author has no entry; change the seed")

        # Comments: exactly 50 under the persona's entry, five under the sink, the rest spread out.
        comment_rows: list[dict] = []
        cid = 0

        def add_comment(entry_id: int, author: int) -> None:
            nonlocal cid
            cid += 1
            at = min(self.entry_at[entry_id - 1] + timedelta(minutes=rng.randint(5, 14_400)), self.now)
            body = self.text.comment()
            comment_rows.append({"id": cid, "entry_id": entry_id, "author_id": author, "body": body,
                                 "body_html": self._html(body), "created_at": at, "edited_at": None})

        for n in range(ENTRY_COMMENTS):
            add_comment(entry_with_comments, persona if n % 2 else bench_methodist)
        last_comment_id = cid
        for n in range(5):
            add_comment(sink_entry, early[n % 2])
        shared = [i + 1 for i, v in enumerate(self.entry_vis)
                  if v != "private" and i + 1 not in (entry_with_comments, sink_entry)]
        for _ in range(size.comments - cid):
            eid = rng.choice(shared)
            author = self.entry_author[eid - 1]
            roll = rng.random()
            if roll < 0.4 and self.mentors.get(author):
                author = rng.choice(self.mentors[author])
            elif roll < 0.7 and self.entry_vis[eid - 1] == "colleagues":
                author = rng.choice(lib)
            add_comment(eid, author)
            if len(comment_rows) >= BATCH:
                self._insert(Comment, comment_rows)
                comment_rows = []
        self._insert(Comment, comment_rows)

        # Feedback and reading marks by the authors' methodists on a share of the shared entries.
        feedback, reads = [], []
        for i, vis in enumerate(self.entry_vis):
            if vis == "private" or i + 1 == entry_with_comments:
                continue
            for m in self.mentors.get(self.entry_author[i], []):
                if rng.random() < 0.3:
                    reads.append({"entry_id": i + 1, "user_id": m, "first_read_at": self.entry_at[i]})
                    if rng.random() < 0.4:
                        feedback.append({"entry_id": i + 1, "methodist_id": m, "comment_id": None,
                                         "status": rng.choice(("accepted", "needs_work")), "updated_at": self.entry_at[i]})
        self._insert(Feedback, feedback)
        self._insert(EntryRead, reads)

        # Self-education plans: the benchmarked methodist's mentees and a tenth of the others.
        from webapp.plans.progress import current_year

        year = current_year()
        plan_rows, step_rows = [], []
        for uid in lib:
            if uid in lib[:MENTEES_OF_BENCH_METHODIST] or rng.random() < 0.1:
                pid = len(plan_rows) + 1
                plan_rows.append({"id": pid, "author_id": uid, "year": year, "topic": "Формирование читательской грамотности",
                                  "aim": self.text.paragraph(1), "tasks": self.text.paragraph(2),
                                  "created_at": self.start, "updated_at": self.start})
                for pos in range(5):
                    step_rows.append({"id": len(step_rows) + 1, "plan_id": pid, "position": pos, "title": self.text.title(),
                                      "due_date": date(year + 1, 1 + pos, 15),
                                      "status": rng.choice(("planned", "in_progress", "done"))})
        self._insert(Plan, plan_rows)
        self._insert(PlanStep, step_rows)

        # Groups: the association (everyone), a few smaller ones; the big thread is the association's first.
        group_id = 1
        groups = [{"id": 1, "name": "ГМО школьных библиотекарей", "description": self.text.paragraph(2),
                   "kind": "association", "is_open": True, "created_at": self.start}]
        for g in range(size.other_groups):
            groups.append({"id": g + 2, "name": f"Творческая группа № {g + 1}", "description": self.text.paragraph(1),
                           "kind": "creative" if g % 2 else "project", "is_open": g % 2 == 0, "created_at": self.start})
        members = [{"group_id": 1, "user_id": uid, "role": "leader" if uid == bench_methodist else "member",
                    "joined_at": self.start} for uid in self.methodists + lib]
        for g in range(size.other_groups):
            for uid in rng.sample(lib, min(20, len(lib))):
                members.append({"group_id": g + 2, "user_id": uid, "role": "member", "joined_at": self.start})
        counts = Counter(m["group_id"] for m in members)
        self._insert(Group, [{**group, "member_count": counts[group["id"]]} for group in groups])
        self._insert(GroupMember, members)
        persona_groups = {m["group_id"] for m in members if m["user_id"] == persona}
        association = self.methodists + lib
        thread_rows, post_rows, state_rows = [], [], []
        post_id = 0
        plan = [(1, size.thread_posts)] + [(1, rng.randint(1, 10)) for _ in range(size.group_threads - 1)]
        plan += [(g + 2, rng.randint(1, 10)) for g in range(size.other_groups) for _ in range(20)]
        for tid, (gid, count) in enumerate(plan, start=1):
            started_at = self._at(rng.random() * 0.9)
            step = (self.now - started_at) / (count + 1)
            for p in range(count):
                post_id += 1
                body = self.text.post()
                post_rows.append({"id": post_id, "thread_id": tid, "author_id": rng.choice(association),
                                  "body": body, "body_html": self._html(body), "created_at": started_at + step * p,
                                  "edited_at": None, "deleted_at": None})
            last_at = started_at + step * (count - 1)
            thread_rows.append({"id": tid, "group_id": gid, "author_id": post_rows[-count]["author_id"],
                                "title": self.text.title(), "pinned": gid == 1 and tid in (2, 3), "locked": False,
                                "created_at": started_at, "post_count": count, "last_post_id": post_id, "last_post_at": last_at})
            if gid in persona_groups:  # the persona has read every thread of their groups
                state_rows.append({"user_id": persona, "thread_id": tid, "last_read_post_id": post_id, "muted": False})
            if len(post_rows) >= BATCH:
                self._flush_threads(thread_rows, post_rows)
                thread_rows, post_rows = [], []
        self._flush_threads(thread_rows, post_rows)
        big_thread_last = size.thread_posts  # the big thread's posts are ids 1..thread_posts
        for uid in rng.sample(association, min(len(association), 500)):
            if uid != persona:
                state_rows.append({"user_id": uid, "thread_id": 1, "last_read_post_id": rng.randint(1, big_thread_last),
                                   "muted": False})
        self._insert(ThreadState, state_rows)
        newest_in_group = max(self._group_last_posts(plan))

        # Notifications: the persona has 100, three of them unread (about entries no endpoint opens).
        notes = []
        persona_entries = [e for e in self.by_author[persona] if e != entry_with_comments]
        for n in range(100):
            notes.append({"recipient_id": persona, "kind": "entry_comment", "actor_id": bench_methodist,
                          "entry_id": persona_entries[n % len(persona_entries)], "comment_id": None,
                          "created_at": self._at(n / 100), "read_at": None if n >= 97 else self._at(n / 100)})
        recipients = lib[1:] + self.methodists
        for _n in range(max(0, size.notifications - 100)):
            recipient = rng.choice(recipients)
            own = self.by_author.get(recipient)
            at = self._at(rng.random())
            row = {"recipient_id": recipient, "actor_id": rng.choice(lib), "created_at": at,
                   "read_at": at if rng.random() < 0.7 else None}
            if own:
                row.update(kind="entry_comment", entry_id=rng.choice(own), comment_id=None)
            else:
                row.update(kind="thread_reply", thread_id=1, post_id=None)
            notes.append(row)
        notes = [{"id": n + 1, "entry_id": None, "comment_id": None, "plan_id": None, "thread_id": None, "post_id": None,
                  **row} for n, row in enumerate(notes)]
        self._insert(Notification, notes)

        nav_seen = nav_state(persona).seen
        db.session.commit()
        self._finish(dialect)
        self.counts["seconds"] = round(time.monotonic() - started, 1)
        users_by_id = {u["id"]: u["login"] for u in users}
        posts_per_page = 30
        thread_page = 1 if size.thread_posts <= 2 * posts_per_page else (size.thread_posts - 1) // posts_per_page
        return Fixture(
            librarian=users_by_id[persona], methodist=users_by_id[bench_methodist], commenter=users_by_id[commenter],
            password=PASSWORD, entry_with_comments=entry_with_comments, last_comment_id=last_comment_id,
            sink_entry=sink_entry, group_id=group_id, newest_post_in_group=newest_in_group, thread_id=1,
            thread_page=thread_page, last_post_id=big_thread_last, unread_notifications=3,
            nav_seen=nav_seen, commenter_id=commenter,
            counts=self.counts,
        )

    @staticmethod
    def _group_last_posts(plan: list[tuple[int, int]]) -> list[int]:
        """The last post id of each thread of group 1 (posts are numbered thread after thread)."""
        last, out = 0, []
        for gid, count in plan:
            last += count
            if gid == 1:
                out.append(last)
        return out

    def _flush_threads(self, threads: list[dict], posts: list[dict]) -> None:
        self._insert(Thread, threads)
        self._insert(Post, posts)

    def _user(self, uid: int, login: str, name: str, role: str, school: int | None, hashed: str) -> dict:
        return {"id": uid, "login": login, "display_name": name, "role": role, "school_id": school, "active": True,
                "locale": "ru", "password_hash": hashed, "session_token": f"bench{uid:06d}{self.rng.getrandbits(64):016x}",
                "created_at": self.start}

    def _finish(self, dialect: str) -> None:
        """PostgreSQL: sequences past the explicit ids, and the statistics autovacuum would gather.
        SQLite is left as the app leaves it (the app runs no ANALYZE)."""
        from webapp.extensions import db

        if dialect != "postgresql":
            db.session.remove()
            raw = db.engine.raw_connection()  # outside any transaction, or SQLite refuses
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
            return
        tables = ["schools", "users", "journal_entries", "comments", "plans", "plan_steps", "groups", "threads",
                  "posts", "notifications"]
        for table in tables:
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
