// Tokenizer/detokenizer: real Multi30k sentences (quoted exactly from data/multi30k), a few
// constructed inputs for rules the corpus does not exercise, and whole-corpus invariants.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/corpus.h"
#include "text/corpus.h"
#include "text/tokenizer.h"

namespace nmt::text {
namespace {

struct Case {
  const char* line;    // input, exactly as in the corpus (NBSP written as \xc2\xa0)
  const char* tokens;  // expected lowercased tokens, separated by single spaces
};

std::vector<std::string> split_spaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

void check_cases(const std::vector<Case>& cases, Lang lang) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    EXPECT_EQ(tokenize(c.line, lang), split_spaces(c.tokens));
  }
}

// train.de / val.de / test_2016_flickr.de
const std::vector<Case> kGerman = {
    // sentence-final dot split off a word
    {"Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
     "zwei junge weiße männer sind im freien in der nähe vieler büsche ."},
    // umlaut capitals at the start
    {"Ältere Menschen sitzen an Tischen zusammen und reden.",
     "ältere menschen sitzen an tischen zusammen und reden ."},
    {"Örtlicher Verkäufer in der Stadt verkauft sein Produkt an Stadtbewohner.",
     "örtlicher verkäufer in der stadt verkauft sein produkt an stadtbewohner ."},
    // straight quotes
    {"Ein Kind mit der Nummer \"93\" fährt Ski.", "ein kind mit der nummer \" 93 \" fährt ski ."},
    // German curly quotes „ “, ! inside
    {"Drei Personen betreten ein Gebäude mit einen handgeschriebenen Schild, auf dem steht "
     "„Welcome Bikers“.",
     "drei personen betreten ein gebäude mit einen handgeschriebenen schild , auf dem steht „ "
     "welcome bikers “ ."},
    {"Ein Mann in einem Anzug steht mit einem Schild mit der Aufschrift „Stop raping my wife!“ in "
     "der Nähe einer Straße.",
     "ein mann in einem anzug steht mit einem schild mit der aufschrift „ stop raping my wife ! “ "
     "in der nähe einer straße ."},
    // colon, quote after it
    {"Ein Paar hält eine Schild, auf dem steht: „Teaching children for peace“.",
     "ein paar hält eine schild , auf dem steht : „ teaching children for peace “ ."},
    // parentheses, semicolon, question and exclamation marks
    {"Zwei Mädchen (eine in Blau und die andere in Pink) liefern sich ein Rennen auf Rollschuhen.",
     "zwei mädchen ( eine in blau und die andere in pink ) liefern sich ein rennen auf rollschuhen "
     "."},
    {"Zwei Männer schlagen Trommeln und ein Mann bläst ein Horn; sie sitzen im Freien.",
     "zwei männer schlagen trommeln und ein mann bläst ein horn ; sie sitzen im freien ."},
    {"Wie kommen wir zur anderen Seite?", "wie kommen wir zur anderen seite ?"},
    {"Ein Mann, der mit Feuer in um die 5 Töpfen gleichzeitig kocht!",
     "ein mann , der mit feuer in um die 5 töpfen gleichzeitig kocht !"},
    // numbers stay whole: time, decimal comma (after a no-break space), thousands dot
    {"Ein Bahnsteig um 11:27 Uhr am Morgen.", "ein bahnsteig um 11:27 uhr am morgen ."},
    {"Ein Skateboarder springt mit einem Stunt von einer 1,5\xc2\xa0"
     "Meter hohen Klippe.",
     "ein skateboarder springt mit einem stunt von einer 1,5 meter hohen klippe ."},
    {"Ein Mann steht neben einem anderen Mann und nimmt einen Scheck über 10.000 Euro entgegen.",
     "ein mann steht neben einem anderen mann und nimmt einen scheck über 10.000 euro entgegen ."},
    // ordinal keeps its dot; a number at the end of the sentence does not
    {"Ein Mann arbeitet auf Höhe des 2. Stocks an einem Gebäude.",
     "ein mann arbeitet auf höhe des 2. stocks an einem gebäude ."},
    {"Ein Oklahoma-Sooners-Football-Spieler trägt sein Trikot mit der Nummer\xc2\xa0"
     "28.",
     "ein oklahoma-sooners-football-spieler trägt sein trikot mit der nummer 28 ."},
    // hyphenated compounds
    {"Eine Dame in einem weißen T-Shirt blickt zu der Person, die ihren Arm in die Luft streckt.",
     "eine dame in einem weißen t-shirt blickt zu der person , die ihren arm in die luft streckt "
     "."},
    {"Ein hellhäutiger Mann spielt in einer Rock-'n'-Roll-Band live Gitarre auf einer Bühne.",
     "ein hellhäutiger mann spielt in einer rock-'n'-roll-band live gitarre auf einer bühne ."},
    {"Eine Texas-A&M-Tennisspielerin lässt den Tennisball auftitschen.",
     "eine texas-a&m-tennisspielerin lässt den tennisball auftitschen ."},
    // truncated compounds keep their hyphen
    {"Das Sortiment an Bananen, Orangen, Melonen usw. eines asiatischen Obst- und "
     "Gemüsehändlers auf seinem kleinen Boot.",
     "das sortiment an bananen , orangen , melonen usw. eines asiatischen obst- und "
     "gemüsehändlers auf seinem kleinen boot ."},
    {"Ein übergewichtiger Mann trägt Schutzhelm und -handschuhe.",
     "ein übergewichtiger mann trägt schutzhelm und -handschuhe ."},
    // abbreviations keep their dot
    {"Eine aus Männern und Frauen bestehende Menschenmenge sitzt bzw. steht bei einem Schild mit "
     "Forderungen.",
     "eine aus männern und frauen bestehende menschenmenge sitzt bzw. steht bei einem schild mit "
     "forderungen ."},
    {"Ein Mann steht vor einem Prince St. Cafe.", "ein mann steht vor einem prince st. cafe ."},
    {"Windhunde laufen auf einer Rennbahn und Nr. 8 ist in Führung.",
     "windhunde laufen auf einer rennbahn und nr. 8 ist in führung ."},
    {"Dies scheint ein Arbeitsplatz oder eine Forschungsstelle, evtl. ein Bauernhof zu sein, aber "
     "ein sehr feuchter, wo grüner, schick aussehender Schimmel die Wände hoch wächst.",
     "dies scheint ein arbeitsplatz oder eine forschungsstelle , evtl. ein bauernhof zu sein , "
     "aber ein sehr feuchter , wo grüner , schick aussehender schimmel die wände hoch wächst ."},
    {"Eine Frau in einem grünen Oberteil liest drei Kindern aus einem Dr.-Seuss-Buch vor.",
     "eine frau in einem grünen oberteil liest drei kindern aus einem dr.-seuss-buch vor ."},
    {"Ein Mann zeigt ein Buch in der U.S. Armee Yongsan Bücherei.",
     "ein mann zeigt ein buch in der u.s. armee yongsan bücherei ."},
    {"Ein Mann läuft an einem Schild vorbei, auf dem E.S.E. Electronics steht.",
     "ein mann läuft an einem schild vorbei , auf dem e.s.e. electronics steht ."},
    {"Mehrere Männer gehen und stehen in einer John A. Noble Einrichtung.",
     "mehrere männer gehen und stehen in einer john a. noble einrichtung ."},
    // apostrophes: 's split off, elision and quotes
    {"Auf geht's in den Schlamm, ich habe meinen Helm und meine Jacke dabei.",
     "auf geht 's in den schlamm , ich habe meinen helm und meine jacke dabei ."},
    {"Ein kleiner Junge spielt bei McDonald's GameCube.",
     "ein kleiner junge spielt bei mcdonald 's gamecube ."},
    {"Eine Frau in einem burgunderroten Mantel verlässt Trader Joe‘s, mit einem Wagen voller "
     "Lebensmittel.",
     "eine frau in einem burgunderroten mantel verlässt trader joe 's , mit einem wagen voller "
     "lebensmittel ."},
    {"Guck' mal da – lass' uns zuschauen, wie das weißrote Auto umkippt.",
     "guck' mal da – lass' uns zuschauen , wie das weißrote auto umkippt ."},
    {"Die Menschen versammeln sich außerhalb eines Gebäudes, in dem 'Love Story' aufgeführt wird.",
     "die menschen versammeln sich außerhalb eines gebäudes , in dem ' love story ' aufgeführt "
     "wird ."},
    {"Ein Baby sitzt lachend in einem Hochstuhl in einem Restaurant und drückt Mickey Maus' Nase.",
     "ein baby sitzt lachend in einem hochstuhl in einem restaurant und drückt mickey maus' nase "
     "."},
    {"Ein Mann mit gelber Krawatte und Hemd macht das „Hook ’em Horns“-Zeichen. ",
     "ein mann mit gelber krawatte und hemd macht das „ hook 'em horns “ - zeichen ."},
    // ellipsis, double dot, percent
    {"Ein Mann in einem blauen Hemd hält ein Schild, auf dem steht: „Come on now ... what's gayer "
     "than tea.“",
     "ein mann in einem blauen hemd hält ein schild , auf dem steht : „ come on now ... what 's "
     "gayer than tea . “"},
    {"Eine Gruppe von Menschen rennt über den Sand..",
     "eine gruppe von menschen rennt über den sand .."},
    {"Ein im Regen stehender Mann wirbt für einen Rabatt von 50 %.",
     "ein im regen stehender mann wirbt für einen rabatt von 50 % ."},
    // tab inside a line
    {"\"Zwei männliche und eine weibliche Person spielen in einer \tWasserfontäne.\"",
     "\" zwei männliche und eine weibliche person spielen in einer wasserfontäne . \""},
};

// train.en / val.en
const std::vector<Case> kEnglish = {
    {"Two young, White males are outside near many bushes.",
     "two young , white males are outside near many bushes ."},
    {"A man in a blue shirt is standing on a ladder cleaning a window.",
     "a man in a blue shirt is standing on a ladder cleaning a window ."},
    // n't like spaCy
    {"The images aren't showing up, so I 'm going to assume the picture is lovely.",
     "the images are n't showing up , so i 'm going to assume the picture is lovely ."},
    {"A man posing with a \"November can't come soon enough\" poster.",
     "a man posing with a \" november ca n't come soon enough \" poster ."},
    {"A man in a pinstriped suit walks down the street and doesn't notice the quirky poster on his "
     "left.",
     "a man in a pinstriped suit walks down the street and does n't notice the quirky poster on "
     "his left ."},
    // clitics standing alone
    {"2 women wearing brightly colored clothes are sitting next to a dirt road on a rock having a "
     "conversation while they 're watching the field.",
     "2 women wearing brightly colored clothes are sitting next to a dirt road on a rock having a "
     "conversation while they 're watching the field ."},
    {"Hopefully when I mix these I 'll still have eyebrows.",
     "hopefully when i mix these i 'll still have eyebrows ."},
    // possessive 's and plural possessive '
    {"A brown dog is standing on his back legs trying to reach something in the man's hand.",
     "a brown dog is standing on his back legs trying to reach something in the man 's hand ."},
    {"A man dressed like late 80's movie Batman.", "a man dressed like late 80 's movie batman ."},
    {"A man in an orange vest and a cap stands outside a ladies' bathroom.",
     "a man in an orange vest and a cap stands outside a ladies ' bathroom ."},
    {"It looks as though the player in burgundy just kicked the soccer ball over #5's head.",
     "it looks as though the player in burgundy just kicked the soccer ball over # 5 's head ."},
    // single quotes as quotes; inner apostrophe stays
    {"A man is jumping on a green bicycle over a sign that says 'free dinner'.",
     "a man is jumping on a green bicycle over a sign that says ' free dinner ' ."},
    {"Three women in dresses are outside accepting hors d'oeuvres from a caterer.",
     "three women in dresses are outside accepting hors d'oeuvres from a caterer ."},
    {"A man in a yellow tie and shirt is making the \"hook 'em horns\" sign.",
     "a man in a yellow tie and shirt is making the \" hook 'em horns \" sign ."},
    {"A man in a blue shirt is holding a sign that says \"Come on now ... what's gayer than tea.\"",
     "a man in a blue shirt is holding a sign that says \" come on now ... what 's gayer than tea "
     ". \""},
    // abbreviations and acronyms
    {"There is a crowd of people on the busy corner of 18th St. outside Bank of America.",
     "there is a crowd of people on the busy corner of 18th st. outside bank of america ."},
    {"A man showing a book at the U.S. Army Yongsan Library.",
     "a man showing a book at the u.s. army yongsan library ."},
    {"A S.C.U.B.A. diver swims in deep blue water.",
     "a s.c.u.b.a. diver swims in deep blue water ."},
    {"Santa and Mrs. Klaus are posing with one little child.",
     "santa and mrs. klaus are posing with one little child ."},
    {"A woman in a green shirt reads a Dr. Seuss book to three children.",
     "a woman in a green shirt reads a dr. seuss book to three children ."},
    {"Three older people stand in front of an avrovulcan.com sign.",
     "three older people stand in front of an avrovulcan.com sign ."},
    // numbers
    {"This man is a union employee making 95,000 a year mopping floors for the government.",
     "this man is a union employee making 95,000 a year mopping floors for the government ."},
    {"Six small children in coats are gathered around a food cart selling chestnuts for 2.00 "
     "Euros.",
     "six small children in coats are gathered around a food cart selling chestnuts for 2.00 euros "
     "."},
    {"A train station platform at 11:27 in the morning.",
     "a train station platform at 11:27 in the morning ."},
    // hyphens, HTML entity left in the corpus, ! ? ( )
    {"A lady in a white t-shirt is looking toward the person with their arm raised in the air.",
     "a lady in a white t - shirt is looking toward the person with their arm raised in the air ."},
    {"Two dogs play tug-of-war with a disc, in knee-high water.",
     "two dogs play tug - of - war with a disc , in knee - high water ."},
    {"A man is walking by Brenmark Tools &amp; Fasteners.",
     "a man is walking by brenmark tools & fasteners ."},
    {"A man cooking with fire in like 5 pots at the same time!",
     "a man cooking with fire in like 5 pots at the same time !"},
    {"How do we get to the other side?", "how do we get to the other side ?"},
    {"A man with a large plant reads a newspaper about how someone (besides him) is an idiot.",
     "a man with a large plant reads a newspaper about how someone ( besides him ) is an idiot ."},
    {"A man is using a grinder on a locker's lock", "a man is using a grinder on a locker 's lock"},
};

TEST(Tokenizer, GermanCorpusSentences) { check_cases(kGerman, Lang::De); }
TEST(Tokenizer, EnglishCorpusSentences) { check_cases(kEnglish, Lang::En); }

// Rules the corpus does not exercise (constructed inputs).
TEST(Tokenizer, ConstructedGerman) {
  check_cases(
      {
          {"Ein 3-jähriger Junge spielt.", "ein 3-jähriger junge spielt ."},
          {"Tiere, z.B. Hunde, u.a. im Park.", "tiere , z.b. hunde , u.a. im park ."},
          {"Es kostet ca. 2,5 Mio. Euro.", "es kostet ca. 2,5 mio. euro ."},
          {"Er sagt »Hallo« und geht…", "er sagt » hallo « und geht …"},
          {"Der/die Flugbegleiter_in wartet.", "der / die flugbegleiter_in wartet ."},
          {"Wie geht's? Gut!!", "wie geht 's ? gut !!"},
          {"Über'm Tisch, auf'm Stuhl.", "über 'm tisch , auf 'm stuhl ."},
          {"Dr. Müller kommt.", "dr. müller kommt ."},
      },
      Lang::De);
}

TEST(Tokenizer, ConstructedEnglish) {
  check_cases(
      {
          {"I've seen it, he'd go, we'll see, won't we?",
           "i 've seen it , he 'd go , we 'll see , wo n't we ?"},
          {"They're at Joe’s; it’s 10:30 a.m. now.", "they 're at joe 's ; it 's 10:30 a.m. now ."},
          {"“Hello,” she said (quietly)...", "“ hello , ” she said ( quietly ) ..."},
          {"No. 5 said no.", "no. 5 said no ."},
          {"Visit example.org.", "visit example.org ."},
      },
      Lang::En);
}

TEST(Tokenizer, LowercaseIsUtf8Aware) {
  EXPECT_EQ(to_lower("ÄÖÜ ÉÀÈÇÑ ÂÎÔ ÅØÆ Þ"), "äöü éàèçñ âîô åøæ þ");
  EXPECT_EQ(to_lower("STRAßE ẞ ×"), "straße ß ×");  // ß unchanged, × is not a letter
  EXPECT_EQ(to_lower("ŁÓDŹ ŚĆĘ ŽČŠ ŒŸ Ő"), "łódź śćę žčš œÿ ő");
  EXPECT_EQ(to_lower("ΑΒΓ АБВ Ё"), "αβγ абв ё");
  EXPECT_EQ(to_lower("already lower, 123 !?"), "already lower, 123 !?");
  EXPECT_EQ(tokenize("ÜBER ÄRGER", Lang::De), (std::vector<std::string>{"über", "ärger"}));
}

TEST(Tokenizer, KeepsCaseWhenAsked) {
  EXPECT_EQ(tokenize("Ein Mann zeigt ein Buch in der U.S. Armee.", Lang::De, false),
            (std::vector<std::string>{"Ein", "Mann", "zeigt", "ein", "Buch", "in", "der", "U.S.",
                                      "Armee", "."}));
  EXPECT_EQ(tokenize("Doesn't it?", Lang::En, false),
            (std::vector<std::string>{"Does", "n't", "it", "?"}));
}

TEST(Tokenizer, EmptyAndWhitespace) {
  EXPECT_TRUE(tokenize("", Lang::De).empty());
  EXPECT_TRUE(tokenize(" \t \xc2\xa0 ", Lang::En).empty());
  EXPECT_EQ(tokenize("  a\t\tb\xc2\xa0"
                     "c  ",
                     Lang::En),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(detokenize({}, Lang::En), "");
}

TEST(Tokenizer, LangFromCode) {
  EXPECT_EQ(lang_from_code("de"), Lang::De);
  EXPECT_EQ(lang_from_code("en"), Lang::En);
  EXPECT_EQ(lang_from_code("fr"), Lang::Other);  // any language: neutral rules
  EXPECT_EQ(lang_from_code("pt-br"), Lang::Other);
  EXPECT_THROW(lang_from_code(""), Error);
  EXPECT_THROW(lang_from_code("../x"), Error);
  EXPECT_THROW(lang_from_code("a b"), Error);
}

TEST(Tokenizer, OtherLanguagesGetNeutralRules) {
  // No English clitics, no German compounds: punctuation split off, words whole.
  EXPECT_EQ(tokenize("L'homme n'est pas là, dit-il.", Lang::Other, false),
            (std::vector<std::string>{"L'homme", "n'est", "pas", "là", ",", "dit-il", "."}));
  EXPECT_EQ(detokenize({"L'homme", "est", "là", ",", "dit-il", "."}, Lang::Other),
            "L'homme est là, dit-il.");
}

TEST(Tokenizer, DetokenizeRules) {
  const auto de = [](const char* s) { return detokenize(split_spaces(s), Lang::De); };
  const auto en = [](const char* s) { return detokenize(split_spaces(s), Lang::En); };
  EXPECT_EQ(en("i do n't know , they 're here ."), "i don't know, they're here.");
  EXPECT_EQ(en("a ( big ) dog ; really ! ?"), "a (big) dog; really!?");
  EXPECT_EQ(en("he said \" hi \" and \" bye \" ."), "he said \"hi\" and \"bye\".");
  EXPECT_EQ(en("the ladies ' room says ' open ' ."), "the ladies' room says 'open'.");
  EXPECT_EQ(en("“ hello , ” she said"), "“hello,” she said");
  EXPECT_EQ(en("jersey # 8 ."), "jersey #8.");
  EXPECT_EQ(de("er steht : „ hallo “ - schild ."), "er steht: „hallo“-schild.");
  EXPECT_EQ(de("er sagt » hallo « ."), "er sagt »hallo«.");
  EXPECT_EQ(de("der / die"), "der/die");
  EXPECT_EQ(de("come on now ... what 's up .."), "come on now ... what's up..");
}

// spaCy's infix rules (the seed's tokenizer): English splits a hyphen between letters, both
// languages one between digits; German compounds and digit-letter words stay whole.
TEST(Tokenizer, HyphensSplitLikeSpacy) {
  EXPECT_EQ(tokenize("A t-shirt, a 3-year-old, scores 2-3 and rock-'n'-roll.", Lang::En),
            split_spaces("a t - shirt , a 3-year - old , scores 2 - 3 and rock-'n'-roll ."));
  EXPECT_EQ(tokenize("Ein T-Shirt, 2-3 Hunde und ein 3-jähriger Junge.", Lang::De),
            split_spaces("ein t-shirt , 2 - 3 hunde und ein 3-jähriger junge ."));
  // Models trained before the option: every hyphenated word is one token.
  EXPECT_EQ(tokenize("A t-shirt, scores 2-3.", Lang::En, true, false),
            split_spaces("a t-shirt , scores 2-3 ."));
  // The detokenizer glues such a hyphen back (only when the model splits them).
  EXPECT_EQ(detokenize(split_spaces("a t - shirt and 2 - 3 dogs - - ok"), Lang::En),
            "a t-shirt and 2-3 dogs - - ok");
  EXPECT_EQ(detokenize(split_spaces("a t - shirt"), Lang::En, false), "a t - shirt");
}

// detokenize(tokenize(x)) == lowercase(x) for typical sentences.
TEST(Tokenizer, RoundTripRealSentences) {
  const std::vector<std::pair<const char*, Lang>> lines = {
      {"Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.", Lang::De},
      {"Drei Personen betreten ein Gebäude mit einen handgeschriebenen Schild, auf dem steht "
       "„Welcome Bikers“.",
       Lang::De},
      {"Zwei Mädchen (eine in Blau und die andere in Pink) liefern sich ein Rennen auf "
       "Rollschuhen.",
       Lang::De},
      {"Ein Mann arbeitet auf Höhe des 2. Stocks an einem Gebäude.", Lang::De},
      {"Das Sortiment an Bananen, Orangen, Melonen usw. eines asiatischen Obst- und "
       "Gemüsehändlers auf seinem kleinen Boot.",
       Lang::De},
      {"Ein Mann steht neben einem anderen Mann und nimmt einen Scheck über 10.000 Euro "
       "entgegen.",
       Lang::De},
      {"Auf geht's in den Schlamm, ich habe meinen Helm und meine Jacke dabei.", Lang::De},
      {"Die Menschen versammeln sich außerhalb eines Gebäudes, in dem 'Love Story' aufgeführt "
       "wird.",
       Lang::De},
      {"Guck' mal da – lass' uns zuschauen, wie das weißrote Auto umkippt.", Lang::De},
      {"Zwei Restaurantmitarbeiter unter einer „Mongolian BBQ“-Leuchtreklame übergeben einen "
       "Teller mit Essen.",
       Lang::De},
      {"Ein Mann in einem blauen Hemd hält ein Schild, auf dem steht: „Come on now ... what's "
       "gayer than tea.“",
       Lang::De},
      {"Two young, White males are outside near many bushes.", Lang::En},
      {"Two dogs play tug-of-war with a disc, in knee-high water.", Lang::En},
      {"A man posing with a \"November can't come soon enough\" poster.", Lang::En},
      {"A man in an orange vest and a cap stands outside a ladies' bathroom.", Lang::En},
      {"A man is jumping on a green bicycle over a sign that says 'free dinner'.", Lang::En},
      {"A man in a blue shirt is holding a sign that says \"Come on now ... what's gayer than "
       "tea.\"",
       Lang::En},
      {"There is a crowd of people on the busy corner of 18th St. outside Bank of America.",
       Lang::En},
      {"The racing dog has a muzzle and is wearing striped jersey #8.", Lang::En},
      {"A man with a large plant reads a newspaper about how someone (besides him) is an idiot.",
       Lang::En},
  };
  for (const auto& [line, lang] : lines) {
    SCOPED_TRACE(line);
    EXPECT_EQ(detokenize(tokenize(line, lang), lang), to_lower(line));
  }
}

// Removes whitespace, decodes &amp; and makes curly apostrophes straight: what the tokens of a
// line concatenate to.
std::string squash(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
    } else if (s.compare(i, 2, "\xc2\xa0") == 0) {
      i += 2;
    } else if (s.compare(i, 5, "&amp;") == 0) {
      out += '&';
      i += 5;
    } else if (s.compare(i, 3, "\xe2\x80\x99") == 0 || s.compare(i, 3, "\xe2\x80\x98") == 0) {
      out += '\'';
      i += 3;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// Over the whole bundled training set: tokens are non-empty, contain no whitespace, lose and
// add nothing, and detokenizing gives back the lowercased line for nearly every sentence (the
// rest differ only where the corpus has odd spacing such as "bank ." or a double space).
TEST(Tokenizer, WholeTrainingSet) {
  for (const char* code : {"de", "en"}) {
    SCOPED_TRACE(code);
    const Lang lang = lang_from_code(code);
    const auto lines = read_lines(data::split_path("data/multi30k", "train", code));
    ASSERT_EQ(lines.size(), 29000u);
    std::size_t round_trips = 0, lossless = 0;
    for (const auto& line : lines) {
      const auto tokens = tokenize(line, lang);
      std::string joined;
      for (const auto& t : tokens) {
        ASSERT_FALSE(t.empty()) << line;
        ASSERT_EQ(t.find_first_of(" \t"), std::string::npos) << line;
        joined += t;
      }
      lossless += joined == squash(to_lower(line));
      round_trips += detokenize(tokens, lang) == to_lower(line);
    }
    EXPECT_EQ(lossless, lines.size());
    EXPECT_GE(round_trips, lines.size() * 99 / 100);
  }
}

}  // namespace
}  // namespace nmt::text
