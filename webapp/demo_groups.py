"""Demo data for discussions: the city association (ГМО) of school librarians, a closed creative
group and a project group, their threads and posts, what each person has read, and the
notifications all this produced. Called by demo.seed() after the people and mentoring exist.

Posts are written in the order they were made (ids grow with time, as in real use) and each
goes through the notification events, so nobody hears of a group they may not read.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from .demo_mentoring import academic_year
from .extensions import db
from .groups.models import Group, GroupKind, GroupMember, MemberRole, Post, Thread, ThreadState
from .mentoring.models import Notification
from .models import User, utcnow
from .notifications import events

Clock = Callable[[int, str], datetime]  # (days ago, "HH:MM" local) → naive UTC

GMO = "Городское методическое объединение школьных библиотекарей"
CREATIVE = "Творческая группа «Библиотечный урок»"
MARATHON = "Проектная группа «Читательский марафон»"


@dataclass(frozen=True)
class DemoGroup:
    name: str
    kind: GroupKind
    is_open: bool
    description: str
    leaders: tuple[str, ...]
    members: tuple[str, ...]


GROUPS = (
    DemoGroup(GMO, GroupKind.ASSOCIATION, True,
              "Городское методическое объединение (ГМО) педагогов-библиотекарей Комсомольска-на-Амуре. "
              "Заседания — в последний четверг месяца в ИМЦ; между заседаниями обсуждаем здесь.",
              ("metodist1",),
              ("metodist2", "ivanova", "petrova", "smirnova", "kuznetsova", "popova", "sokolova", "orlov")),
    DemoGroup(CREATIVE, GroupKind.CREATIVE, False,
              "Разрабатываем и обмениваемся сценариями библиотечных уроков для начальной и основной школы. "
              "Лучшие сценарии собираем в методическую копилку ГМО.",
              ("metodist2",), ("popova", "smirnova", "kuznetsova", "sokolova")),
    DemoGroup(MARATHON, GroupKind.PROJECT, True,
              "Межшкольный читательский марафон для 6-х классов: СОШ № 27 и Лицей № 1. Четыре недели — четыре книги.",
              ("popova",), ("sokolova", "orlov")),
)


@dataclass(frozen=True)
class DemoPost:
    author: str
    days_ago: int
    at: str  # local time of day, HH:MM
    body: str
    edited: bool = False


@dataclass(frozen=True)
class DemoThread:
    group: str
    title: str
    posts: tuple[DemoPost, ...]
    pinned: bool = False
    locked: bool = False


THREADS = (  # a title's {year} becomes the academic year, e.g. 2026/2027
    DemoThread(GMO, "План работы ГМО на {year} учебный год", pinned=True, posts=(
        DemoPost("metodist1", 40, "10:00", """\
Уважаемые коллеги! Публикую план работы ГМО на учебный год.
Методическая тема года: **«Школьный информационно-библиотечный центр как пространство развития читательской грамотности»**.

**Заседания** (последний четверг месяца, 15:00, ИМЦ):

1. **Август** — анализ работы за прошлый год, утверждение плана, состав творческих и проектных групп.
2. **Октябрь** — семинар-практикум «Библиотечный урок в формате квеста» (опыт Т. А. Кузнецовой, Гимназия № 9).
3. **Декабрь** — методический мост «Проектная деятельность в школьной библиотеке: краеведение».
4. **Февраль** — круглый стол «Медиаинформационная грамотность старшеклассников».
5. **Апрель** — открытые библиотечные уроки (цикл Н. С. Ивановой, СОШ № 16), методический марафон.
6. **Май** — творческие отчёты групп, итоги года.

**В течение года:**

- городской конкурс чтецов «Живое слово» (ноябрь – декабрь);
- Неделя детской и юношеской книги (март);
- виртуальная методическая выставка «Банк опыта ГМО» — пополняем после каждого заседания;
- консультации по аттестации — по записи у методиста.

Предложения к плану пишите здесь, в этой теме."""),
        DemoPost("ivanova", 39, "19:20", """\
Ирина Васильевна, спасибо! Можно ли перенести открытые уроки с апреля на март?
В апреле у наших четвёртых классов **ВПР**, детей на уроки не отпустят."""),
        DemoPost("metodist1", 38, "09:15", """\
> Можно ли перенести открытые уроки с апреля на март?

Да, давайте так: открытые уроки — в марте, вместе с Неделей детской книги, а методический марафон оставим на апрель.
План поправлю к заседанию."""),
        DemoPost("kuznetsova", 37, "16:40", """\
Готова провести семинар в октябре. Прошу только **проектор и выход в интернет**: квест идёт по QR-кодам."""),
    )),
    DemoThread(GMO, "Объявление: заседание ГМО переносится на 4 декабря", locked=True, posts=(
        DemoPost("metodist1", 6, "08:30", """\
Коллеги, в связи с городской олимпиадой школьников заседание ГМО **переносится с 27 ноября на 4 декабря**.
Время и место прежние: 15:00, ИМЦ, кабинет 12.

Повестка:

1. Методический мост «Проектная деятельность в школьной библиотеке: краеведение» (Е. В. Петрова, СОШ № 16).
2. Итоги первого тура конкурса чтецов «Живое слово».
3. Разное.

Тема закрыта для ответов, чтобы объявление не потерялось. Вопросы — в общих темах группы."""),
    )),
    DemoThread(GMO, "Ретроввод в электронный каталог: кто уже прошёл этот путь?", posts=(
        DemoPost("orlov", 8, "18:55", """\
Коллеги, начал переводить карточный каталог в электронный. За две недели внёс **около 600 записей из девяти тысяч** — один на всю школу.

Поделитесь, пожалуйста:

- с чего начинали — с художественного фонда или со справочного?
- вносили всё подряд или сначала то, что реально выдаётся?
- сколько времени это заняло?"""),
        DemoPost("metodist1", 7, "09:40", """\
Дмитрий Андреевич, хороший вопрос для всего ГМО.
@kuznetsova, Татьяна Александровна, вы ведь в прошлом году закончили ретроввод в гимназии — расскажите, как организовали работу?"""),
        DemoPost("kuznetsova", 7, "17:10", """\
Да, закончили в мае, ушло почти два года. Главное, что поняла:

1. **Начинайте с того, что выдаётся**: художественная литература для 5–9 классов, потом справочный фонд.
   То, что не брали пять лет, — сначала на списание, а не в каталог.
2. Берите готовые записи из сводного каталога, а не набирайте вручную: так втрое быстрее.
3. Помогали старшеклассники-волонтёры — наклеивали штрихкоды, им это засчитали в социальную практику.

> один на всю школу

Знакомо. Без волонтёров я бы не справилась."""),
        DemoPost("smirnova", 5, "13:05", """\
Присоединяюсь к вопросу: у нас в гимназии только начинаем. Татьяна Александровна, а в какой программе вы работаете?"""),
        DemoPost("kuznetsova", 2, "20:30", """\
Ольга Николаевна, в той же АИБС, что и городская библиотека, — удобно брать записи из их каталога.
Могу показать на заседании в декабре, если добавим в повестку."""),
        DemoPost("metodist1", 1, "10:20", """\
Добавим в «Разное» на заседании 4 декабря: **«Ретроввод: опыт Гимназии № 9»**, 15 минут. Спасибо, Татьяна Александровна!"""),
        DemoPost("orlov", 1, "21:40", """\
Спасибо, коллеги! Приду с вопросами. Пока начинаю с художественного фонда для 5–9 классов, как советует Татьяна Александровна."""),
    )),
    DemoThread(GMO, "Список летнего чтения: как сделать, чтобы его читали", posts=(
        DemoPost("ivanova", 12, "21:15", """\
Родители на собрании попросили список летнего чтения «покороче». Хочу сделать список из десяти книг,
но к каждой — одну фразу о том, **чем книга зацепит ребёнка**.

Как вы оформляете списки: бумажная памятка, страница на сайте, сообщение в чат класса?"""),
        DemoPost("petrova", 11, "16:00", """\
Мы делаем **закладку**: с одной стороны список, с другой — QR-код на страницу сайта с аннотациями.
Закладку дети не теряют, в отличие от листа А4."""),
        DemoPost("sokolova", 10, "12:35", """\
> к каждой — одну фразу о том, чем книга зацепит ребёнка

Отличная идея! Я бы добавила ещё отзывы детей прошлого лета, как у Ольги Николаевны на выставке
«Книги, которые нас выбирают»: мнение ровесника детям интереснее нашего."""),
        DemoPost("smirnova", 9, "19:45", """\
Поддерживаю, отзывы работают. @ivanova, Наталья Сергеевна, могу поделиться шаблоном закладки-отзыва — выложу его в копилку ГМО."""),
        DemoPost("ivanova", 3, "18:10", """\
Спасибо, коллеги! Собрала черновик списка для 3–4 классов, выложу сюда после согласования с учителями начальной школы."""),
    )),
    DemoThread(CREATIVE, "Сценарий урока «Как устроена книга»: доработка для 2–3 классов", posts=(
        DemoPost("metodist2", 20, "11:00", """\
Коллеги, по итогам Недели детской книги предлагаю доработать сценарий урока **«Как устроена книга»**
для 2–3 классов и включить его в методическую копилку группы.

Что нужно:

- упростить термины: обложку, форзац и титульный лист оставляем, «выходные данные» убираем;
- добавить практическое задание минут на десять;
- подобрать книги, которые есть в каждой нашей школе."""),
        DemoPost("popova", 19, "15:25", """\
Возьму практическое задание. Идея: дети в парах собирают «книгу» из разрезанных частей — обложка, форзац,
титульный лист, текст — и объясняют, зачем нужна каждая часть."""),
        DemoPost("smirnova", 18, "20:05", """\
> дети в парах собирают «книгу» из разрезанных частей

Светлана Игоревна, здорово! Только для второго класса, думаю, хватит четырёх частей, иначе не уложимся.

Надо бы позвать @ivanova: урок в основе — её, пусть посмотрит доработку."""),
        DemoPost("metodist2", 17, "09:30", """\
Ольга Николаевна, Наталья Сергеевна пока не в нашей группе — предложу ей присоединиться, когда сведём сценарий."""),
        DemoPost("kuznetsova", 4, "17:50", """\
Подобрала книги: «Денискины рассказы», сказки Бианки, «Приключения Незнайки» — есть во всех наших школах, сверилась с каталогами.
@popova, пришлёте текст задания? Сведу всё в один файл."""),
        DemoPost("popova", 1, "19:40", """\
Отправила. Задание с разрезными карточками — **в двух вариантах**, для 2 и для 3 класса.""", edited=True),
    )),
    DemoThread(CREATIVE, "Квест на библиотечном уроке: как оценивать результат", posts=(
        DemoPost("kuznetsova", 15, "18:20", """\
После семинара ГМО остался вопрос из зала: как оценивать результат квеста, кроме «детям понравилось»?
Предлагаю вместе составить критерии. Мои черновые:

1. Сколько заданий команда выполнила **без подсказки**.
2. Смогли ли дети объяснить, где нашли ответ: каталог, указатель, энциклопедия.
3. Что запомнили через неделю — короткий опрос на следующем уроке."""),
        DemoPost("sokolova", 14, "12:10", """\
Третий пункт — самый честный. Я бы добавила самооценку: после квеста каждый отмечает на карточке, что было трудно."""),
        DemoPost("metodist2", 13, "10:45", """\
Хорошие критерии. Оформим их как **лист наблюдения** — его можно приложить к материалам на аттестацию.
Татьяна Александровна, подготовите к следующей встрече группы?"""),
        DemoPost("kuznetsova", 12, "21:00", "Да, подготовлю к следующей встрече."),
    )),
    DemoThread(MARATHON, "Марафон для 6-х классов: книги и сроки", posts=(
        DemoPost("popova", 22, "14:15", """\
Коллеги, утверждаем: четыре недели, одна книга в неделю.

1. А. Гайдар, «Тимур и его команда».
2. А. Рыбаков, «Кортик».
3. К. Булычёв, «Девочка, с которой ничего не случится».
4. Н. Задорнов, «Амур-батюшка» (главы по выбору).

Старт — первый понедельник после каникул."""),
        DemoPost("sokolova", 21, "11:30", """\
Задания по третьей и четвёртой книге беру. Для «Амура-батюшки» сделаю задание с картой: где жили герои и что там сейчас."""),
        DemoPost("orlov", 20, "17:05", """\
Страница марафона на сайте СОШ № 27 готова. @sokolova, Анна Дмитриевна, присылайте задания в формате первой недели:
вопрос, три варианта ответа, страница книги, где искать."""),
    )),
)

# How many days ago each person last opened the discussions: posts older than that are read
# (and so are those before one's own post); newer ones show as unread.
LAST_VISIT = {"metodist1": 2, "metodist2": 3, "ivanova": 4, "petrova": 9, "smirnova": 5, "kuznetsova": 2,
              "popova": 1, "sokolova": 11, "orlov": 6}


def seed(users: dict[str, User], clock: Clock) -> None:
    groups = _groups(users, clock)
    start = academic_year(date.today())
    year = f"{start}/{start + 1}"
    threads: dict[int, Thread] = {}  # by index in THREADS
    written: list[tuple[Post, str]] = []  # each post with its author's login
    # Every post in the order it was made, so post ids grow with time as in real use.
    timeline = sorted(((clock(p.days_ago, p.at), n, t, p) for n, t in enumerate(THREADS) for p in t.posts),
                      key=lambda item: (item[0], item[1]))
    for at, n, demo_thread, demo_post in timeline:
        group = groups[demo_thread.group]
        thread = threads.get(n)
        author = users[demo_post.author]
        post = Post(body=demo_post.body, author_id=author.id, created_at=at,
                    edited_at=at + timedelta(hours=2) if demo_post.edited else None)
        if thread is None:
            thread = Thread(group_id=group.id, author_id=author.id, pinned=demo_thread.pinned,
                            title=demo_thread.title.format(year=year), created_at=at, post_count=0, last_post_at=at)
            db.session.add(thread)
            db.session.flush()
            threads[n] = thread
        post.thread_id = thread.id
        db.session.add(post)
        db.session.flush()
        first = thread.post_count == 0
        thread.post_count += 1
        thread.last_post_id, thread.last_post_at = post.id, at
        if first:
            events.thread_created(thread, post, group)
        else:
            events.post_added(post, thread, group)
        # Notifications carry the time of the post they tell of, not the time of seeding.
        db.session.execute(update(Notification).where(Notification.post_id == post.id).values(created_at=at))
        written.append((post, demo_post.author))
    for n, demo_thread in enumerate(THREADS):
        threads[n].locked = demo_thread.locked  # locked after its posts were written
    _reading(users, list(threads.values()), written, clock)


def _groups(users: dict[str, User], clock: Clock) -> dict[str, Group]:
    created = clock(60, "10:00")
    groups = {}
    for demo in GROUPS:
        group = Group(name=demo.name, kind=demo.kind, is_open=demo.is_open, description=demo.description,
                      created_at=created, member_count=len(demo.leaders) + len(demo.members))
        db.session.add(group)
        db.session.flush()
        for logins, role in ((demo.leaders, MemberRole.LEADER), (demo.members, MemberRole.MEMBER)):
            for login in logins:
                db.session.add(GroupMember(group_id=group.id, user_id=users[login].id, role=role, joined_at=created))
        groups[demo.name] = group
    db.session.flush()
    return groups


def _reading(users: dict[str, User], threads: list[Thread], written: list[tuple[Post, str]], clock: Clock) -> None:
    """Each member's read mark per thread (LAST_VISIT), and their notifications about what they read."""
    by_thread: dict[int, list[tuple[Post, str]]] = {}
    for post, login in written:
        by_thread.setdefault(post.thread_id, []).append((post, login))
    members = {(m.group_id, m.user_id) for m in db.session.scalars(select(GroupMember))}
    logins = {user.id: login for login, user in users.items()}
    read_up_to: dict[tuple[int, int], int] = {}
    for thread in threads:
        for user_id, login in logins.items():
            if (thread.group_id, user_id) not in members or login not in LAST_VISIT:
                continue
            visited = clock(LAST_VISIT[login], "23:59")
            seen = [post.id for post, author in by_thread[thread.id]
                    if post.created_at < visited or author == login]
            if seen:
                read_up_to[(user_id, thread.id)] = max(seen)
                db.session.add(ThreadState(user_id=user_id, thread_id=thread.id, last_read_post_id=max(seen)))
    now = utcnow()
    for note in db.session.scalars(select(Notification).where(Notification.thread_id.is_not(None))):
        if note.post_id <= read_up_to.get((note.recipient_id, note.thread_id), 0):
            note.read_at = min(note.created_at + timedelta(hours=3), now)
    db.session.flush()
