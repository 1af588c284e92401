"""Data behind the synthetic CCUS workers: names, trades, 職種 codes and qualification ladders.

Sources (all beside the project in ``shared/domain/``):

* qualification names exactly as the criteria tables print them (judgement-rules.md §4, the
  packaged criteria master), with the CCUS 資格コード where the tables give one; where they
  give none the code is left empty (we do not invent codes);
* CCUS 職種 codes only where judgement-rules.md §4 lists them (とび 06-01; 電気工事 09-01,
  09-10; 建築大工 34-01 …; 06-02 足場とび工 from trades.md). 鉄筋 (code 10 vs 27 unresolved),
  配管, 硝子工事 and 防水施工 get no 職種 and their work records carry no code;
* その他技能講習 = 49999 (research.md §6: 玉掛け registered under 49999 is a known mistake).

This module is data only; :mod:`judgement.feed.synthetic` draws from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OTHER_SKILL_COURSE_CODE = "49999"  # その他技能講習

# --------------------------------------------------------------------------- names

# (kanji, katakana). Frequent family names first; the rare-kanji variants below are the
# spellings that break naive systems: 髙 (U+9AD9) and 﨑 (U+FA11, a compatibility-block
# ideograph that NFKC leaves alone), both outside JIS X 0208; 𠮷 (U+20BB7, outside the
# BMP: two UTF-16 code units); 濵 (U+6FF5), 邊/邉.
FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"),
    ("石井", "イシイ"), ("小川", "オガワ"), ("前田", "マエダ"), ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"), ("近藤", "コンドウ"),
    ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
    ("福田", "フクダ"), ("太田", "オオタ"), ("西村", "ニシムラ"), ("藤井", "フジイ"),
    ("金子", "カネコ"), ("岡本", "オカモト"), ("藤原", "フジワラ"), ("中野", "ナカノ"),
    ("三浦", "ミウラ"), ("原田", "ハラダ"), ("松田", "マツダ"), ("竹内", "タケウチ"),
    ("中山", "ナカヤマ"), ("和田", "ワダ"), ("石田", "イシダ"), ("上田", "ウエダ"),
    ("森田", "モリタ"), ("小島", "コジマ"), ("柴田", "シバタ"), ("原", "ハラ"),
    ("宮崎", "ミヤザキ"), ("酒井", "サカイ"), ("工藤", "クドウ"), ("横山", "ヨコヤマ"),
    ("宮本", "ミヤモト"), ("内田", "ウチダ"), ("高木", "タカギ"), ("安藤", "アンドウ"),
    ("島田", "シマダ"), ("谷口", "タニグチ"), ("大野", "オオノ"), ("高田", "タカダ"),
    ("丸山", "マルヤマ"), ("今井", "イマイ"), ("河野", "コウノ"), ("藤本", "フジモト"),
    ("村田", "ムラタ"), ("武田", "タケダ"), ("上野", "ウエノ"), ("杉山", "スギヤマ"),
    ("増田", "マスダ"), ("小山", "コヤマ"), ("大塚", "オオツカ"), ("平野", "ヒラノ"),
    ("菅原", "スガワラ"), ("久保", "クボ"), ("松井", "マツイ"), ("千葉", "チバ"),
    ("岩崎", "イワサキ"), ("桜井", "サクライ"), ("木下", "キノシタ"), ("野口", "ノグチ"),
    ("松尾", "マツオ"), ("菊地", "キクチ"), ("野村", "ノムラ"), ("新井", "アライ"),
    ("浜田", "ハマダ"), ("吉野", "ヨシノ"), ("高野", "タカノ"), ("比嘉", "ヒガ"),
    ("金城", "キンジョウ"), ("大城", "オオシロ"),
)  # fmt: skip

RARE_FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("髙橋", "タカハシ"), ("山﨑", "ヤマサキ"), ("𠮷田", "ヨシダ"), ("𠮷野", "ヨシノ"),
    ("髙木", "タカギ"), ("宮﨑", "ミヤザキ"), ("濵田", "ハマダ"), ("髙田", "タカダ"),
    ("齋藤", "サイトウ"), ("渡邊", "ワタナベ"), ("渡邉", "ワタナベ"), ("岩﨑", "イワサキ"),
    ("髙野", "タカノ"), ("髙﨑", "タカサキ"), ("𠮷川", "ヨシカワ"), ("德永", "トクナガ"),
)  # fmt: skip
RARE_NAME_SHARE = 0.04

# Given names by generation (a 1965 worker is rarely a 蓮).
MALE_OLDER: tuple[tuple[str, str], ...] = (
    ("誠", "マコト"), ("浩", "ヒロシ"), ("健一", "ケンイチ"), ("博", "ヒロシ"),
    ("隆", "タカシ"), ("茂", "シゲル"), ("勝", "マサル"), ("修", "オサム"),
    ("清", "キヨシ"), ("明", "アキラ"), ("正樹", "マサキ"), ("和也", "カズヤ"),
    ("秀樹", "ヒデキ"), ("哲也", "テツヤ"), ("浩二", "コウジ"), ("幸一", "コウイチ"),
    ("信二", "シンジ"), ("達也", "タツヤ"), ("剛", "ツヨシ"), ("聡", "サトシ"),
    ("学", "マナブ"), ("淳", "ジュン"), ("勇", "イサム"), ("進", "ススム"),
    ("正", "タダシ"), ("一郎", "イチロウ"), ("健二", "ケンジ"), ("武", "タケシ"),
    ("豊", "ユタカ"), ("実", "ミノル"), ("智", "サトシ"), ("光男", "ミツオ"),
)  # fmt: skip
MALE_YOUNGER: tuple[tuple[str, str], ...] = (
    ("大輔", "ダイスケ"), ("翔太", "ショウタ"), ("拓也", "タクヤ"), ("健太", "ケンタ"),
    ("大樹", "ダイキ"), ("翔", "ショウ"), ("蓮", "レン"), ("颯太", "ソウタ"),
    ("大翔", "ヒロト"), ("悠斗", "ユウト"), ("亮", "リョウ"), ("拓海", "タクミ"),
    ("直樹", "ナオキ"), ("雄太", "ユウタ"), ("陽介", "ヨウスケ"), ("航", "ワタル"),
    ("裕太", "ユウタ"), ("優斗", "ユウト"), ("海斗", "カイト"), ("駿", "シュン"),
    ("隼人", "ハヤト"), ("将太", "ショウタ"), ("竜也", "タツヤ"), ("智也", "トモヤ"),
    ("恭平", "キョウヘイ"), ("剛志", "ツヨシ"), ("慎也", "シンヤ"), ("圭佑", "ケイスケ"),
)  # fmt: skip
FEMALE: tuple[tuple[str, str], ...] = (
    ("美咲", "ミサキ"), ("陽子", "ヨウコ"), ("恵子", "ケイコ"), ("由美", "ユミ"),
    ("直美", "ナオミ"), ("真由美", "マユミ"), ("彩", "アヤ"), ("愛", "アイ"),
    ("麻衣", "マイ"), ("さくら", "サクラ"), ("優花", "ユウカ"), ("舞", "マイ"),
    ("久美子", "クミコ"), ("智子", "トモコ"), ("明美", "アケミ"), ("千尋", "チヒロ"),
)  # fmt: skip
FEMALE_SHARE = 0.03  # women are ~3% of skilled construction workers


# --------------------------------------------------------------------------- trades


@dataclass(frozen=True)
class Step:
    """One qualification a worker of the trade may hold.

    Held with ``probability`` (once ``after`` is held, if set); acquired between ``years``
    after the worker's career start (or after ``after`` was acquired), e.g. (2, 6).
    ``pool`` draws it as one of a pool (とび's 12 技能講習) instead.
    """

    name: str
    code: str = ""
    probability: float = 0.5
    years: tuple[float, float] = (1, 5)
    after: str | None = None
    codes: tuple[str, ...] = ()  # alternative codes, drawn at random (職長教育 60001/60011)


@dataclass(frozen=True)
class Occupation:
    code: str
    name: str


@dataclass(frozen=True)
class TradeProfile:
    trade: str
    weight: float
    occupations: tuple[Occupation, ...] = ()
    """Primary first. Work records carry the primary code, sometimes a secondary one."""
    secondary_share: float = 0.0
    """Share of site engagements under the secondary 職種 (if there is one)."""
    steps: tuple[Step, ...] = ()
    skill_course_pool: tuple[Step, ...] = ()
    """とび: the 12 技能講習; each worker draws some of them."""
    noise: tuple[Step, ...] = field(default=())
    """Qualifications that do not count for the trade but real records hold."""


TAMAKAKE = "玉掛け技能講習"
SHOKUCHO = "職長・安全衛生責任者教育"
YUSHU = "優秀施工者国土交通大臣顕彰"
ANZEN = "安全優良職長厚生労働大臣顕彰"
TAKUETSU = "卓越した技能者"
SEINEN = "青年優秀施工者土地・建設産業局長顕彰"
GRANDPRIX = "技能グランプリ"
KOSHO = "高所作業車運転技能講習"
ASHIBA_SHUNIN = "足場の組立て等作業主任者技能講習"

FULL_HARNESS = Step(
    "フルハーネス型墜落制止用器具特別教育", probability=0.55, years=(0, 30)
)  # required from 2019-02; clamped to that date by the generator
FULL_HARNESS_FROM = (2019, 2, 1)

_SHOKUCHO = Step(SHOKUCHO, "60001", 0.45, (5, 14), codes=("60001", "60001", "60001", "60011"))
_AWARDS = (
    Step(YUSHU, "91002", 0.02, (24, 40)),
    Step(ANZEN, "93001", 0.01, (22, 40)),
    Step(TAKUETSU, "", 0.003, (28, 45)),
)

TRADES: tuple[TradeProfile, ...] = (
    TradeProfile(
        trade="鉄筋",
        weight=20,
        steps=(
            Step(TAMAKAKE, "40040", 0.85, (0.5, 4)),
            Step("2級鉄筋施工技能士", "", 0.55, (3, 8)),
            Step("1級鉄筋施工技能士", "", 0.55, (2, 6), after="2級鉄筋施工技能士"),
            _SHOKUCHO,
            Step("登録鉄筋基幹技能者", "", 0.35, (3, 10), after="1級鉄筋施工技能士"),
            *_AWARDS,
        ),
        noise=(
            Step("ガス溶接技能講習", "40032", 0.35, (1, 6)),
            Step("小型移動式クレーン運転技能講習", "40031", 0.3, (2, 8)),
            Step("アーク溶接特別教育", "", 0.2, (1, 6)),
            FULL_HARNESS,
        ),
    ),
    TradeProfile(
        trade="電気工事",
        weight=22,
        occupations=(Occupation("09-01", "電気工"), Occupation("09-10", "ソーラーシステム取付工")),
        secondary_share=0.08,
        steps=(
            Step("第二種電気工事士免状取得者", "", 0.85, (0, 4)),
            Step(
                "第一種電気工事士試験合格者",
                "31073",
                0.5,
                (2, 8),
                after="第二種電気工事士免状取得者",
            ),
            # the licence needs years of practice after passing the examination
            Step(
                "第一種電気工事士免状取得者",
                "31018",
                0.75,
                (3, 6),
                after="第一種電気工事士試験合格者",
            ),
            Step("認定電気工事従事者", "", 0.3, (3, 8), after="第二種電気工事士免状取得者"),
            Step(KOSHO, "40039", 0.6, (1, 6)),
            _SHOKUCHO,
            Step(SEINEN, "", 0.02, (8, 15)),
            Step(
                "登録電気工事基幹技能者", "00001", 0.3, (3, 10), after="第一種電気工事士免状取得者"
            ),
            Step(YUSHU, "91002", 0.02, (24, 40)),
            Step(TAKUETSU, "", 0.003, (28, 45)),
        ),
        noise=(Step(TAMAKAKE, "40040", 0.25, (1, 8)), FULL_HARNESS),
    ),
    TradeProfile(
        trade="建築大工",
        weight=16,
        occupations=(Occupation("34-01", "大工"), Occupation("34-03", "造作大工")),
        secondary_share=0.15,
        steps=(
            Step("丸のこ等取扱作業者安全衛生教育", "", 0.8, (0, 3)),
            Step("足場の組立て等作業従事者特別教育", "", 0.7, (0, 3)),
            Step(ASHIBA_SHUNIN, "40011", 0.4, (3, 10)),
            Step("木造建築物の組立て等作業主任者技能講習", "40019", 0.45, (4, 12)),
            Step("木材加工用機械作業主任者技能講習", "", 0.3, (3, 10)),
            Step("2級建築大工技能士", "", 0.5, (3, 8)),
            Step("1級建築大工技能士", "", 0.5, (2, 6), after="2級建築大工技能士"),
            Step("2級建築士", "", 0.05, (5, 15)),
            _SHOKUCHO,
            Step(GRANDPRIX, "", 0.01, (4, 12)),
            Step("登録建築大工基幹技能者", "", 0.2, (3, 10), after="1級建築大工技能士"),
            *_AWARDS,
        ),
        noise=(FULL_HARNESS,),
    ),
    TradeProfile(
        trade="配管",
        weight=12,
        steps=(
            Step("2級配管技能士", "", 0.5, (2, 7)),
            Step("1級配管技能士", "", 0.5, (2, 6), after="2級配管技能士"),
            Step(KOSHO, "40039", 0.45, (1, 6)),
            Step("給水装置工事配管技能者", "", 0.35, (2, 8)),
            Step("地山の掘削及び土止め支保工作業主任者技能講習", "40005", 0.2, (3, 10)),
            Step("石綿作業主任者技能講習", "", 0.15, (3, 12)),
            Step("2級管工事施工管理技士", "", 0.3, (4, 12)),
            Step("1級管工事施工管理技士", "", 0.35, (3, 8), after="2級管工事施工管理技士"),
            Step("排水設備工事責任技術者", "", 0.2, (5, 12)),
            Step("配水管技能者", "", 0.1, (4, 10)),
            Step("給水装置工事主任技術者", "", 0.15, (6, 15)),
            _SHOKUCHO,
            Step("登録配管基幹技能者", "", 0.2, (3, 10), after="1級配管技能士"),
            Step(YUSHU, "91002", 0.02, (24, 40)),
        ),
        noise=(
            Step(TAMAKAKE, "40040", 0.3, (1, 8)),
            Step("酸素欠乏・硫化水素危険作業主任者技能講習", "", 0.25, (2, 10)),
            Step("アーク溶接特別教育", "", 0.25, (1, 6)),
            FULL_HARNESS,
        ),
    ),
    TradeProfile(
        trade="硝子工事",
        weight=5,
        steps=(
            Step("2級ガラス施工技能士", "", 0.5, (2, 7)),
            Step("1級ガラス施工技能士", "", 0.45, (2, 6), after="2級ガラス施工技能士"),
            Step(KOSHO, "40039", 0.45, (1, 6)),
            Step(ASHIBA_SHUNIN, "40011", 0.25, (3, 10)),
            Step(TAMAKAKE, "40040", 0.5, (0.5, 5)),
            Step("2級建築施工管理技士", "30008", 0.08, (6, 15)),
            Step("1級建築施工管理技士", "30007", 0.3, (3, 8), after="2級建築施工管理技士"),
            _SHOKUCHO,
            Step(SEINEN, "", 0.02, (8, 15)),
            Step(GRANDPRIX, "", 0.01, (4, 12)),
            Step("登録硝子工事基幹技能者", "", 0.2, (3, 10), after="1級ガラス施工技能士"),
            *_AWARDS,
        ),
        noise=(FULL_HARNESS,),
    ),
    TradeProfile(
        trade="防水施工",
        weight=7,
        steps=(
            Step("2級防水施工技能士", "", 0.55, (2, 7)),
            Step("1級防水施工技能士", "", 0.5, (2, 6), after="2級防水施工技能士"),
            Step(TAMAKAKE, "40040", 0.35, (0.5, 5)),
            Step("有機溶剤作業主任者技能講習", "", 0.45, (2, 8)),
            _SHOKUCHO,
            Step("登録防水基幹技能者", "", 0.2, (3, 10), after="1級防水施工技能士"),
            Step(YUSHU, "91002", 0.02, (24, 40)),
        ),
        noise=(FULL_HARNESS,),
    ),
    TradeProfile(
        trade="とび",
        weight=18,
        occupations=(Occupation("06-01", "とび工"), Occupation("06-02", "足場とび工")),
        secondary_share=0.06,  # 06-02 work does not count for とび (filter)
        steps=(
            Step(TAMAKAKE, "40040", 0.9, (0, 3)),
            Step(SHOKUCHO, "60001", 0.75, (3, 10), codes=("60001", "60001", "60001", "60011")),
            Step("2級とび技能士", "10902", 0.55, (3, 8)),
            Step("1級とび技能士", "10901", 0.5, (2, 6), after="2級とび技能士"),
            Step("2級建築施工管理技士", "30008", 0.05, (6, 15)),
            Step("2級土木施工管理技士", "30006", 0.05, (6, 15)),
            Step("登録鳶・土工基幹技能者", "00016", 0.3, (3, 10), after="1級とび技能士"),
            Step(YUSHU, "91002", 0.02, (24, 40)),
            Step(ANZEN, "93001", 0.015, (22, 40)),
        ),
        skill_course_pool=(
            Step(ASHIBA_SHUNIN, "40011", 0.7, (1, 8)),
            Step("型枠支保工の組立て等作業主任者技能講習", "40010", 0.3, (2, 10)),
            Step("地山の掘削及び土止め支保工作業主任者技能講習", "40005", 0.25, (2, 10)),
            Step("建築物等の鉄骨の組立て等作業主任者技能講習", "40012", 0.45, (2, 10)),
            Step("木造建築物の組立て等作業主任者技能講習", "40019", 0.1, (2, 10)),
            Step("コンクリート造の工作物の解体等作業主任者技能講習", "40014", 0.1, (3, 12)),
            Step("小型移動式クレーン運転技能講習", "40031", 0.45, (1, 8)),
            Step(
                "車両系建設機械（整地・運搬・積込み用及び掘削用）運転技能講習",
                "40035",
                0.35,
                (1, 8),
            ),
            Step("車両系建設機械（解体用）運転技能講習", "40036", 0.1, (2, 10)),
            Step("車両系建設機械（基礎工事用）運転技能講習", "40037", 0.1, (2, 10)),
            Step(KOSHO, "40039", 0.4, (1, 8)),
            Step("ガス溶接技能講習", "40032", 0.25, (1, 8)),
        ),
        noise=(FULL_HARNESS,),
    ),
)

TRADE_NAMES: tuple[str, ...] = tuple(p.trade for p in TRADES)
