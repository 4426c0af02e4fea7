"""Plain keyword factories. Each writes rows and returns ids, never ORM objects."""
from __future__ import annotations

import itertools

from sqlalchemy import insert

from webapp.extensions import db
from webapp.models import EntryTag, JournalEntry, Role, School, User, Visibility, mentorships

PASSWORD = "пароль-для-тестов"
_seq = itertools.count(1)


def make_school(name: str | None = None) -> int:
    school = School(name=name or f"Школа №{next(_seq)}")
    db.session.add(school)
    db.session.commit()
    return school.id


def make_user(role: str = Role.LIBRARIAN, *, login: str | None = None, display_name: str | None = None,
              school_id: int | None = None, password: str | None = PASSWORD, active: bool = True,
              locale: str = "ru") -> int:
    n = next(_seq)
    user = User(login=login or f"user{n}", display_name=display_name or f"Пользователь {n}", role=role,
                school_id=school_id, active=active, locale=locale)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user.id


def make_entry(author_id: int, *, visibility: str = Visibility.MENTORS, title: str | None = None,
               body: str = "Текст записи о прочитанном.", tags: tuple[str, ...] = ()) -> int:
    entry = JournalEntry(author_id=author_id, title=title or f"Запись {next(_seq)}", body=body,
                         visibility=visibility, tags=[EntryTag(name=t) for t in tags])
    db.session.add(entry)
    db.session.commit()
    return entry.id


def assign_mentor(methodist_id: int, librarian_id: int) -> None:
    db.session.execute(insert(mentorships).values(methodist_id=methodist_id, librarian_id=librarian_id))
    db.session.commit()


def make_notification(recipient_id: int, kind: str, *, actor_id: int | None = None, entry_id: int | None = None,
                      comment_id: int | None = None, plan_id: int | None = None, thread_id: int | None = None,
                      read: bool = False, created_at=None) -> int:
    from webapp.mentoring.models import Notification
    from webapp.models import utcnow

    notification = Notification(recipient_id=recipient_id, kind=kind, actor_id=actor_id, entry_id=entry_id,
                                comment_id=comment_id, plan_id=plan_id, thread_id=thread_id, read_at=utcnow() if read else None,
                                created_at=created_at or utcnow())
    db.session.add(notification)
    db.session.commit()
    return notification.id


def make_comment(entry_id: int, author_id: int, *, body: str = "Спасибо, очень интересно.") -> int:
    from webapp.mentoring.models import Comment

    comment = Comment(entry_id=entry_id, author_id=author_id, body=body)
    db.session.add(comment)
    db.session.commit()
    return comment.id


def make_plan(author_id: int, *, year: int, topic: str | None = None, aim: str = "", tasks: str = "") -> int:
    from webapp.mentoring.models import Plan

    plan = Plan(author_id=author_id, year=year, topic=topic or f"Тема {next(_seq)}", aim=aim, tasks=tasks)
    db.session.add(plan)
    db.session.commit()
    return plan.id


def make_step(plan_id: int, *, title: str | None = None, due_date=None, status: str = "planned",
              position: int | None = None) -> int:
    from webapp.mentoring.models import PlanStep

    n = next(_seq)
    step = PlanStep(plan_id=plan_id, title=title or f"Шаг {n}", due_date=due_date, status=status,
                    position=n if position is None else position)
    db.session.add(step)
    db.session.commit()
    return step.id


def link_entry_to_step(entry_id: int, step_id: int | None) -> None:
    db.session.get(JournalEntry, entry_id).step_id = step_id
    db.session.commit()


def make_group(name: str | None = None, *, kind: str = "association", is_open: bool = True, description: str = "",
               leaders: tuple[int, ...] = (), members: tuple[int, ...] = ()) -> int:
    from webapp.groups import versions
    from webapp.groups.models import Group, GroupMember, MemberRole

    group = Group(name=name or f"Группа {next(_seq)}", kind=kind, is_open=is_open, description=description,
                  member_count=len({*leaders, *members}))
    db.session.add(group)
    db.session.flush()
    db.session.add_all([GroupMember(group_id=group.id, user_id=u, role=MemberRole.LEADER) for u in leaders]
                       + [GroupMember(group_id=group.id, user_id=u, role=MemberRole.MEMBER) for u in members])
    for user_id in {*leaders, *members}:
        versions.reading_moved(user_id)  # as the app's joining does
    db.session.commit()
    return group.id


def add_member(group_id: int, user_id: int, *, role: str = "member") -> None:
    from webapp.groups import queries

    queries.add_member(group_id, user_id, role)
    db.session.commit()


def make_thread(group_id: int, author_id: int, *, title: str | None = None, body: str | None = "Первое сообщение темы.",
                pinned: bool = False, locked: bool = False) -> int:
    """A thread, with its first post by the author unless body is None; counters as the app keeps them."""
    from webapp.groups import versions
    from webapp.groups.models import Post, Thread

    thread = Thread(group_id=group_id, author_id=author_id, title=title or f"Тема {next(_seq)}",
                    pinned=pinned, locked=locked, post_count=0)
    db.session.add(thread)
    db.session.flush()
    if body is not None:
        post = Post(thread_id=thread.id, author_id=author_id, body=body)
        db.session.add(post)
        db.session.flush()
        thread.post_count, thread.last_post_id, thread.last_post_at = 1, post.id, post.created_at
        versions.group_posted(group_id)
    db.session.commit()
    return thread.id


def make_posts(thread_id: int, author_id: int, count: int, *, body: str = "Сообщение {n}.") -> list[int]:
    """`count` posts in a thread ("{n}" in body is numbered from 1), counted as the app counts them."""
    from webapp.groups import versions
    from webapp.groups.models import Post, Thread

    posts = [Post(thread_id=thread_id, author_id=author_id, body=body.format(n=n)) for n in range(1, count + 1)]
    db.session.add_all(posts)
    db.session.flush()
    thread = db.session.get(Thread, thread_id)
    thread.post_count += count
    thread.last_post_id, thread.last_post_at = posts[-1].id, posts[-1].created_at
    versions.group_posted(thread.group_id)
    db.session.commit()
    return [p.id for p in posts]


def make_post(thread_id: int, author_id: int, *, body: str = "Ответ в теме.") -> int:
    return make_posts(thread_id, author_id, 1, body=body)[0]
