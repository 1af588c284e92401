"""Generates ``src/identity/data/common_passwords.txt``: passwords refused as too common.

Written from public knowledge, without any download: the passwords that head every
published analysis of leaked password sets (the "top 1000" lists repeated in the NCSC's
and others' reports), common English and Japanese given names, words and places in
romaji, sports teams and brands, keyboard walks (QWERTY rows, columns and diagonals,
forward and back) and letter runs, and words tied to this system (建設, 能力評価, CCUS …).

The policy (``identity.core.policies.common_password``) compares a password with the list
case-insensitively, as typed, without the digits and symbols before and after it
(``Password1`` → ``password``), and with look-alike digits read as letters (``P@ssw0rd`` →
``password``); so the list holds bases, not their variants. Entries of fewer than four
characters are left out (they would refuse too much once stripped).

    uv run python services/identity/tools/common_passwords.py   # rewrites the file
"""

from __future__ import annotations

import itertools
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/identity/data/common_passwords.txt"

LEAKED = """
password passw0rd p@ssword p@ssw0rd pass1234 qwerty qwertyuiop qwertyui qwertyu qwert
qwerty123 qwer1234 qwerasdf qwerasdfzxcv qweasd qweasdzxc qweqwe qwe123 qazwsx qazwsxedc
1qaz2wsx 1qazxsw2 zaq12wsx zaq1xsw2 xsw2zaq1 1q2w3e4r 1q2w3e4r5t 1q2w3e q1w2e3r4 q1w2e3r4t5
q1w2e3 12qwaszx 123qwe 123qweasd abc123 abcd1234 abc12345 a1b2c3 a1b2c3d4 aa123456 123456a
123456q 12345a 12345q 123abc 1234qwer asdf1234 asd123 asdfasdf asdfgh asdfghjk asdfghjkl
asdasd zxcvbn zxcvbnm zxcasdqwe iloveyou iloveu iloveme loveyou lovely loveme lover lovers
monkey dragon letmein trustno1 shadow master superman batman spiderman sunshine princess
football baseball basketball soccer hockey tennis golfer welcome welcome1 whatever
freedom hello hello123 charlie donald michael jennifer jordan jordan23 hunter buster
harley ranger thomas robert daniel starwars klaster george computer michelle jessica
pepper maggie ginger joshua cheese amanda summer winter spring autumn ashley nicole
chelsea biteme matthew access yankees dallas austin thunder taylor matrix william
corvette martin heather secret merlin diamond hammer silver anthony justin test testing
tester bailey patrick internet scooter orange cookie richard samantha bigdog guitar
jackson mickey chicken sparky snoopy maverick phoenix camaro peanut morgan falcon cowboy
cowboys ferrari samsung andrea smokey steelers joseph mercedes dakota arsenal eagles
melissa boomer booboo spider nascar monster tigers tiger yellow gateway marina diablo
bulldog compaq purple hardcore banana junior hannah porsche lakers iceman money london
coffee scooby miller boston brandon yamaha chester mother father forever johnny edward
oliver redsox player nikita knight fender barney midnight please brandy chicago badboy
slayer rangers charles angel angels flower bigdaddy rabbit wizard jasper enter rachel
chris steven winner adidas victoria natasha jasmine prince marine fishing cocacola casper
james raiders gandalf crystal golden panther lauren angela spanky madison winston shannon
mike toyota canada sophie apples pokemon qazxsw qwaszx muffin johnson murphy cooper
jonathan liverpool david danielle jackie turtle scorpion butter carlos dennis slipknot
booger black startrek cameron newyork rainbow nathan john rocket viking redskins butthead
sierra peaches gemini doctor wilson sandra helpme victor florida dolphin dolphins pookie
captain tucker blue bandit maddog packers jaguar nicholas united tiffany maxwell nirvana
jeremy stupid monica elephant giants hotdog rosebud success debbie mountain warrior
albert metallica lucky azerty alex bond007 alexis samson willie scorpio bonnie gators
benjamin voodoo driver dexter jason calvin freddy creative sydney rush2112 bubba
trouble gunner happy gordon legend jessie stella eminem arthur apple nissan bear
america nothing parker rebecca garfield beavis jack december magic apollo skippy girls
kitten golf copper braves shelby godzilla beaver fred tomcat august buddy airborne
brooklyn animal platinum phantom online xavier darkness blink182 power fish green
voyager police travis heaven snowball abcdef pakistan walter playboy blazer cricket
sniper hooters donkey willow saturn therock redwings bigboy pumpkin trinity williams
nintendo digital destiny topgun runner marvin guinness chance bubbles fire november
minecraft lasvegas sergey broncos cartman private celtic birdie little cassie babygirl
beatles family school louise gabriel eclipse fluffy explorer beer nelson flyers spencer
scott gibson doggie cherry andrey snickers buffalo pantera member carter peter alexander
steve bronco paradise goober samuel montana mexico dreams michigan carolina yankee
friends magnum surfer maximus genius cool vampire lacrosse christine kimberly speedy
sharon carmen kristina sammy racing sabrina horses qwerty1 baby stalker enigma star
poohbear simple marcus brian drowssap hahaha caroline barbara dave viper drummer action
einstein genesis scotty friend forest hotrod google vanessa spitfire badger maryjane
friday alaska jester jake champion floyd mustang chevy harrison rocky rockstar
superstar hello1 iloveyou1 lovelove babylove sweetie sweetheart honey honeybee angel1
princess1 butterfly flowers sunflower rose roses tweety kitty hellokitty pussycat
daisy lily jasmine1 cupcake chocolate candy sugar lollipop strawberry blueberry
pineapple mango lemon cherry1 watermelon kiwi coconut vanilla caramel cookie1 brownie
cheesecake pizza pasta burger hotdog1 bacon sausage chicken1 turkey dinner lunch
breakfast coffee1 espresso latte cappuccino tea beer1 whiskey vodka tequila wine
soccer1 football1 baseball1 hockey1 basketball1 volleyball softball cricket1 rugby
golf1 boxing karate judo kungfu ninja samurai shogun sensei dragonball naruto sasuke
goku vegeta pikachu charizard mario luigi zelda link sonic tetris pacman nintendo1
playstation xbox gamer gaming counterstrike warcraft starcraft diablo3 overwatch
fortnite roblox minecraft1 letmein1 welcome123 admin admin123 administrator root
toor system server manager support service guest user default changeme change
passwort motdepasse contrasena senha parola wachtwoord haslo salasana jelszo heslo
lozinka geslo sifre parool slaptazodis parole kodeord passord losenord
secret1 secretpassword mypassword mypass yourpassword nopassword password123
passwordpassword pass123 passpass pass111 test123 test1234 testtest demo demo123
temp temp123 temporary letmeinplease opensesame open sesame access14 master123
superuser super supervisor qwerty12 qwerty1234 qwertz qwertzuiop azertyuiop
monkey1 dragon1 shadow1 master1 superman1 batman1 michael1 jordan1 charlie1 jessica1
ashley1 daniel1 thomas1 robert1 andrew andrew1 joshua1 matthew1 anthony1 william1
justin1 hunter1 ranger1 buster1 tigger tigger1 sunshine1 summer1 princess2 flower1
purple1 orange1 yellow1 green1 blue1 black1 white white1 red red1 silver1 golden1
"""

GIVEN_NAMES = """
aaron abigail adam adrian aiden alan alberto alejandro alex alexa alice alicia alison
allison amber amy ana andre andrea andres andy angel angelica angelina ann anna anne
annie antonio april ariana ariel arnold ashley audrey austin ava barry ben benny bernard
beth betty beverly bill billy blake bob bobby bonnie brad bradley brandon brenda brendan
brett brian bridget brittany brooke bruce bryan caitlin calvin cameron camille candace
carl carla carlos carmen carol carolina caroline carrie casey catherine cathy cecilia
chad charlene charles charlotte chelsea cheryl chloe chris christian christina christine
christopher cindy claire clara claudia cody colin colleen connor courtney craig crystal
curtis cynthia daisy dale dan dana daniel danielle danny darren dave david dawn dean
debbie deborah denise dennis derek diana diane dominic don donna doris dorothy douglas
dylan eddie edgar edith eduardo edward eileen elaine eleanor elena elijah elizabeth ella
ellen emily emma eric erica erik erin ethan eugene eva evan evelyn faith felix fernando
fiona frances francis frank gabriel gail gary gavin george gerald gina gloria grace
greg gregory hailey hannah harold harry heather helen henry holly howard hugo ian irene
isaac isabel isabella ivan jack jackie jacob jacqueline jake james jamie jane janet
janice jared jasmine jason javier jay jean jeff jeffrey jenna jennifer jenny jeremy
jerry jesse jessica jill jimmy joan joanna joe joel john johnny jon jonathan jordan
jorge jose joseph josh joshua joy joyce juan judith judy julia julian julie justin
karen karina kate katherine kathleen kathy katie kayla keith kelly ken kenneth kevin
kim kimberly kirk kristen kyle larry laura lauren lawrence leah lee leo leon leonard
leslie liam lila lily linda lindsay lisa logan lori louis lucas lucy luis luke lydia
madison maggie marc marcus margaret maria marie marilyn mario mark martha martin marvin
mary mason matthew maureen max megan melanie melissa michael michelle miguel mike
mildred miranda mitchell molly monica morgan nancy naomi natalie nathan neil nicholas
nick nicole noah norma oliver olivia oscar pablo pamela patricia patrick paul paula
pedro peggy peter philip phillip rachel ralph randy raymond rebecca regina renee
ricardo richard rick rita robert roberto robin rodney roger ronald rose ruby russell
ruth ryan sally samantha samuel sandra sara sarah scott sean sergio shane shannon
sharon shawn sheila shirley sophia stacy stanley stephanie stephen steve steven susan
sydney tamara tammy tanya tara teresa terry theresa thomas tiffany timothy tina todd
tom tommy tony tracy travis tyler valerie vanessa veronica vicki victor victoria
vincent virginia walter wanda wayne wendy william willie xavier zachary zoe
taro jiro saburo ichiro hanako yuki yuko yumi yui yuka yukiko yoko keiko kyoko naoko
tomoko akiko michiko sachiko noriko hiroko emiko mayumi ayumi megumi kaori kaoru
hiroshi takashi takeshi kenji kenta kenichi shinji shota shouta sho daiki daisuke
yusuke kosuke ryosuke keisuke sosuke hayato haruto hinata sota souta yuto yuuto
riku ren kaito kouki koki yamato takumi tsubasa hikaru akira makoto satoshi osamu
tetsuya kazuya naoki masaki masato hideki hideo haruki hiroki kazuki yuki naomi
sakura haruka ayaka misaki nanami aoi yua mei rin hina mio miyu sara saki mika
minami moe nana nao rina risa saya yuna miku asuka azusa chihiro erika kana kanon
kotone mai mana manami natsuki shiori sayaka ayano
suzuki sato satou tanaka takahashi watanabe ito itou yamamoto nakamura kobayashi
kato katou yoshida yamada sasaki yamaguchi matsumoto inoue kimura hayashi shimizu
yamazaki mori abe ikeda hashimoto yamashita ishikawa nakajima maeda fujita ogawa
goto gotou okada hasegawa murakami kondo kondou ishii saito saitou sakamoto endo
endou aoki fujii nishimura fukuda ota oota miura fujiwara okamoto matsuda nakagawa
nakano harada ono tamura takeuchi kaneko wada nakayama ishida ueda morita hara
shibata sakai kudo kudou yokoyama miyazaki miyamoto uchida takagi ando andou
taniguchi ohno ono maruyama imai takada fujimoto takeda murata ueno sugiyama masuda
sugawara hirano otsuka ootsuka chiba kubo matsui iwasaki sakurai kinoshita noguchi
matsuo kikuchi nomura arai
"""

ROMAJI_WORDS = """
sakura nihon nippon japan tokyo osaka kyoto nagoya yokohama kobe sapporo fukuoka sendai
hiroshima okinawa hokkaido kyushu shikoku honshu kanagawa saitama chiba ibaraki tochigi
gunma shizuoka niigata nagano kanazawa toyama kumamoto kagoshima nara wakayama
fujisan fujiyama sumida shinjuku shibuya ikebukuro akihabara ginza asakusa ueno roppongi
arigato arigatou konnichiwa konbanwa ohayou ohayo sayonara sayounara daisuki aishiteru
suki kawaii sugoi genki yoroshiku ganbare ganbatte ganbaru daijoubu oyasumi itadakimasu
gochisousama tadaima okaeri otsukare sumimasen gomen gomennasai onegai douzo hajime
hajimemashite himitsu anshin anzen ichiban nihonjin tomodachi kazoku okaasan otousan
oniisan oneesan ojiisan obaasan akachan kodomo gakkou sensei seito daigaku kaisha
shigoto kaisya shain buchou kachou shachou jimusho genba kensetsu kenchiku doboku
daiku tobi tekkin kanagata sakan tosou denki setsubi haikan kanri koumu kouji koji
anzenkakunin genbakantoku kantoku shokunin oyakata deshi minarai
neko inu tori sakana uma ushi buta saru tora ryuu ryu kitsune tanuki usagi kuma kame
panda pokemon pikachu doraemon nobita shizuka gian suneo totoro ghibli kiki ponyo
chihiro naruto sasuke kakashi goku vegeta luffy zoro sanji nami chopper onepiece
gundam evangelion shinji rei asuka conan lupin anpanman hellokitty kitty sanrio
pochacco rilakkuma kumamon gudetama mario zelda sonic kirby yoshi pacman tetris
dragonquest finalfantasy kingdomhearts monsterhunter splatoon animalcrossing
yakiniku sushi ramen udon soba tempura tonkatsu karaage takoyaki okonomiyaki onigiri
bento miso tofu natto wasabi matcha sake shochu biiru kohii ocha mikan ringo ichigo
momo budou suika banana meron remon kaki kuri
haru natsu aki fuyu tsuki hoshi taiyou sora umi yama kawa mizu kaze yuki ame kumo
hikari yami hana kaeru midori aka ao kiiro shiro kuro murasaki pinku orenji
tanjoubi happybirthday omedetou shiawase kibou yume mirai ashita kyou kinou
baseball giants tigers carp dragons swallows baystars hawks lions marines fighters
buffaloes eagles yomiuri hanshin chunichi yakult hiroshima rakuten softbank
jleague urawa reds antlers frontale gamba
toyota honda nissan mazda subaru suzuki yamaha kawasaki mitsubishi daihatsu lexus
sony panasonic toshiba hitachi sharp canon nikon fujitsu nintendo sega capcom konami
uniqlo muji docomo softbank rakuten yahoo
"""

CONTEXT = """
noryoku noryokuhyoka nouryoku nouryokuhyouka hyoka hyouka kensetsu kensetu kenchiku
ccus careerup careerupsystem kyariaappu gino ginou ginousha ginosha ginoukaikei
shokunin genba jigyosha jigyousha shinsei kari karitouroku honshinsei hontouroku
login logon signin signup register password1234 kaiin member1234 noryoku2026 hyoka2026
kensetsu2026 ccus2026 construction builder building worker workers career careerup1
skill skills level levels
"""

WORDS = """
about above account active address admin advance adventure against agent airplane
alien alpha always amazing anchor angel anger animal answer apple april archer arrow
artist asdfjkl atlantic attack august autumn avatar awesome baby bacon badger ball
banana band bank barbie baron basket batman battle beach beast beauty bedroom believe
benjamin berlin bestfriend better beyond bicycle bigfoot binary birthday biscuit
bitcoin blackjack blade blaster blessed blizzard blonde blossom blue bluebird blues
bobcat bomber bonjour boogie boss bottle boxer brain brave bravo bread breaker bridge
bright britain broken brother brown bubble buddy bullet bunny burger butterfly button
cactus caesar california camera candle canyon captain cardinal carpet castle cat catch
celebrate central champion change chaos charlie cheater chicken child china
christmas church cinema circle city classic clever climber cloud clover coach cobra
coconut college colorado comet comfort coming common condor control cooking copper
corona cosmos cougar country courage cowboy crazy cream cricket crimson cross crown
crystal cupcake cyclone dancer danger darkside dawn deadly december delta denver
desert desire destiny devil diamond dinosaur director disney dodge dolphin domino
double dragon dream dreamer driver dropdead drummer duck dynamite eagle earth easter
eclipse electric element elephant emerald empire energy engine engineer england
escape eternal europe evolution excalibur express fairy falcon fantasy farmer fashion
february ferrari fighter firebird fireman fish flame flash florida flower flying
forest fortune freedom french friend frog frozen future galaxy gambit garden gemini
ghost giant ginger global glory goddess golden goodbye goodluck gorilla gospel
grandma grandpa graphic gravity great green grizzly guardian guitar gypsy hacker
halloween hammer happiness happy harmony harvest hawk heart heaven hello helicopter
hercules hero highland history holiday hollywood honey horizon horse hotel house
hunter hurricane iceberg icecream imagine infinity inferno insane island jaguar
january jazz jelly jesus jewel joker journey joy jumper jungle jupiter justice kansas
keeper killer kingdom kingfish kitchen knight koala lady lamborghini laptop laser
legend lemon leopard liberty light lightning lion liquid little london lonely lotus
love lucky lunar machine madness magic magnet mailman mamma manchester mango maple
marathon march marine market mars master matrix maverick maximum mayday meadow
melody memory mercury mermaid metal miami midnight military million miracle mirror
mission mistress mobile modern monday money monkey monster moon moonlight morning
mother motorola mountain mouse movie music mystery naked nature navy nemesis neptune
network newlife newyork night ninja noodle north number ocean october office omega
orange orchid origin outlaw oxford pacific painter panda panther paris passion
peace peaches pearl penguin pepper perfect phoenix photo piano picture pilot pirate
planet player pluto poison police potato power prayer precious pretty prince
princess private program promise public puppy purple puzzle python quality queen
quest rabbit racing radio rainbow raven rebel red reggae remember rescue river robot
rocket romance rooster royal ruby runner russia sailor saint salmon samurai sapphire
saturday saturn scarlet school science scorpion season secret sentinel september
serenity shadow shark sheriff shooter silence silver simple singer sister skater
skywalker slayer smile snake sniper snowflake soccer soldier solution sonic soul
south space spark special speed spirit spring square stallion star start station
steel storm story stranger street strong student sugar summer sun sunday sunrise
sunset super surfer survivor swimmer sword system tango target teacher teddy
teddybear temple tennessee texas thunder thursday ticket tiger titanic today
tomorrow tornado toronto tower trading treasure triangle trinity triumph trouble
truck trumpet truth tuesday tulip turbo turtle twilight ultimate unicorn union
universe valley vampire velvet venus victory viking violet virgin virus vision
voodoo voyager warrior water weather wednesday welcome western whisper white
wildcat william willow winter wisdom wizard wolf wolverine woman wonder world
wrangler xmas yankee yellow yesterday young zebra zeppelin zodiac zombie
"""

ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"]
COLUMNS = ["1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik", "9ol", "0p"]


def keyboard_walks() -> set[str]:
    found: set[str] = set()
    for row in ROWS:
        for length in range(4, len(row) + 1):
            for start in range(len(row) - length + 1):
                walk = row[start : start + length]
                found.update({walk, walk[::-1]})
    for n in range(2, len(COLUMNS) + 1):
        for start in range(len(COLUMNS) - n + 1):
            walk = "".join(COLUMNS[start : start + n])
            found.update({walk, walk[::-1]})
    for a, b in itertools.pairwise(ROWS):
        found.add("".join(x + y for x, y in zip(a, b, strict=False)))
    return found


def runs() -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    found: set[str] = set()
    for length in range(4, 11):
        for start in range(len(letters) - length + 1):
            found.add(letters[start : start + length])
        for c in letters:
            found.add(c * length)
    for unit in ("ab", "abc", "xyz", "qwe", "asd", "zxc", "ha", "he", "lol", "aa"):
        for times in range(2, 6):
            if len(unit * times) >= 4:
                found.add(unit * times)
    return found


def build() -> list[str]:
    words: set[str] = set()
    for block in (LEAKED, GIVEN_NAMES, ROMAJI_WORDS, CONTEXT, WORDS):
        words.update(w.lower() for w in block.split())
    names = GIVEN_NAMES.split()
    words.update(f"ilove{n}" for n in names)
    words.update(f"{n}love" for n in names[:200])
    words.update(keyboard_walks())
    words.update(runs())
    return sorted(w for w in words if len(w) >= 4)


def main() -> None:
    entries = build()
    header = [
        "# Passwords refused as too common (issue 22, finding 10); one per line, lower case.",
        "# Generated by services/identity/tools/common_passwords.py from public knowledge of",
        "# leaked-password analyses, names, romaji words, keyboard walks; see its docstring.",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(header + entries) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries → {OUT}")


if __name__ == "__main__":
    main()
