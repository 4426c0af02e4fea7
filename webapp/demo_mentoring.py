"""Demo data for mentoring: plans with steps, comments and replies, the methodists' feedback,
reading marks and the notifications all this produced. Called by demo.seed() after the
people and entries exist; a librarian with no recent entry stays quiet on purpose."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from .extensions import db
from .mentoring.models import Comment, EntryRead, Feedback, FeedbackStatus, Plan, PlanComment, PlanStep, StepStatus
from .models import JournalEntry, User, utcnow
from .notifications import events


def academic_year(day: date) -> int:
    return day.year if day.month >= 9 else day.year - 1


@dataclass(frozen=True)
class DemoPlan:
    author: str
    topic: str
    aim: str
    tasks: str
    steps: tuple[tuple[str, int, StepStatus], ...]  # title, due in days from today (negative: past), status
    linked: tuple[tuple[str, int], ...] = ()  # entry title → index of the step it reports on


PLANS = (
    DemoPlan(
        "ivanova",
        "Формирование читательской грамотности младших школьников средствами библиотечных уроков",
        "Научить детей 2–4 классов понимать и пересказывать прочитанный текст.",
        "- изучить методические материалы по читательской грамотности;\n"
        "- разработать цикл из шести библиотечных уроков;\n"
        "- провести диагностику в начале и в конце года.",
        (("Изучить материалы по читательской грамотности", -40, StepStatus.DONE),
         ("Провести входную диагностику в 4-х классах", -20, StepStatus.DONE),
         ("Разработать цикл библиотечных уроков", -3, StepStatus.IN_PROGRESS),
         ("Провести открытый урок для коллег ГМО", 60, StepStatus.PLANNED),
         ("Итоговая диагностика и отчёт", 200, StepStatus.PLANNED)),
        (("Тема самообразования на этот год", 0), ("Неделя детской книги: итоги", 1)),
    ),
    DemoPlan(
        "petrova",
        "Проектная деятельность в школьной библиотеке как средство краеведческого воспитания",
        "Вовлечь пятиклассников в исследование истории родного города.",
        "- подготовить проект «Улицы моего города»;\n- наладить связь с краеведческим музеем;\n- оформить результаты в виртуальную выставку.",
        (("Собрать творческую группу учащихся", -35, StepStatus.DONE),
         ("Занятие в краеведческом музее", -21, StepStatus.DONE),
         ("Виртуальная выставка по итогам проекта", 40, StepStatus.IN_PROGRESS)),
        (("Краеведческий проект «Улицы моего города»", 0), ("Проект: занятие в краеведческом музее", 1)),
    ),
    DemoPlan(
        "vasilyeva",
        "Развитие медиаграмотности старшеклассников",
        "Научить десятиклассников проверять источники и создавать буктрейлеры.",
        "- уточнить тему с методистом;\n- провести три занятия по проверке источников.",
        (("Согласовать тему с методистом", -10, StepStatus.IN_PROGRESS),
         ("Занятие «Как проверить источник»", -2, StepStatus.PLANNED)),
        (("Уточняю тему самообразования", 0),),
    ),
)

# (entry title, commenter, text); the author's replies come after the methodist's comment.
COMMENTS = (
    ("Тема самообразования на этот год", "metodist1",
     "Хорошая, конкретная тема. Предлагаю заложить в план **открытый урок** для коллег — это и опыт, и повод обсудить на ГМО."),
    ("Тема самообразования на этот год", "ivanova",
     "Спасибо! Добавила открытый урок в план на весну."),
    ("Краеведческий проект «Улицы моего города»", "metodist1",
     "Очень живой проект. Подумайте, как зафиксировать результат: виртуальная выставка подойдёт."),
    ("Выставка «Книги, которые нас выбирают»", "kuznetsova",
     "Отличная идея с отзывами на закладках, возьму для своей выставки!"),
    ("Межшкольный читательский марафон", "metodist2",
     "Марафон — сильная сторона вашей работы. Чего не хватило, чтобы подключить третью школу?"),
)

# (entry title, methodist, status, comment for «доработать» or None)
FEEDBACK = (
    ("Тема самообразования на этот год", "metodist1", FeedbackStatus.ACCEPTED, None),
    ("Краеведческий проект «Улицы моего города»", "metodist1", FeedbackStatus.ACCEPTED, None),
    ("Громкие чтения во втором классе", "metodist2", FeedbackStatus.NEEDS_WORK,
     "Опишите, пожалуйста, как вы поняли, что детям было интересно: что они говорили, о чём спрашивали?"),
)

READS = (("Тема самообразования на этот год", "metodist1"), ("Краеведческий проект «Улицы моего города»", "metodist1"),
         ("Громкие чтения во втором классе", "metodist2"), ("Межшкольный читательский марафон", "metodist2"))


def seed(users: dict[str, User]) -> None:
    entries = {e.title: e for e in db.session.scalars(select(JournalEntry))}
    today = date.today()
    for demo in PLANS:
        author = users[demo.author]
        plan = Plan(author_id=author.id, year=academic_year(today), topic=demo.topic, aim=demo.aim, tasks=demo.tasks)
        plan.steps = [PlanStep(position=n, title=title, due_date=today + timedelta(days=due), status=status)
                      for n, (title, due, status) in enumerate(demo.steps)]
        db.session.add(plan)
        db.session.flush()
        for title, step in demo.linked:
            entries[title].step_id = plan.steps[step].id
    for entry in entries.values():
        events.entry_shared(entry, was=None)
    for n, (title, login, text) in enumerate(COMMENTS):
        entry = entries[title]
        comment = Comment(entry_id=entry.id, author_id=users[login].id, body=text,
                          created_at=entry.created_at + timedelta(hours=20 + n))
        db.session.add(comment)
        db.session.flush()
        events.comment_added(comment, entry)
    for title, login, status, text in FEEDBACK:
        entry = entries[title]
        comment = None
        if text:
            comment = Comment(entry_id=entry.id, author_id=users[login].id, body=text,
                              created_at=entry.created_at + timedelta(days=1))
            db.session.add(comment)
            db.session.flush()
            events.comment_added(comment, entry)
        feedback = Feedback(entry_id=entry.id, methodist_id=users[login].id, status=status,
                            comment_id=comment.id if comment else None, updated_at=entry.created_at + timedelta(days=1))
        db.session.add(feedback)
        events.status_set(feedback, entry)
    for title, login in READS:
        db.session.add(EntryRead(entry_id=entries[title].id, user_id=users[login].id,
                                 first_read_at=entries[title].created_at + timedelta(hours=18)))
    plan = db.session.scalar(select(Plan).where(Plan.author_id == users["vasilyeva"].id))
    remark = PlanComment(plan_id=plan.id, author_id=users["metodist2"].id, created_at=utcnow() - timedelta(days=5),
                         body="Тема хорошая, но широкая. Давайте сузим: проверка источников на материале школьных новостей?")
    db.session.add(remark)
    db.session.flush()
    events.plan_commented(remark, plan)
