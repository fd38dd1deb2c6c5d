"""Prices: amounts with a currency and price words, in questions (pre-filter) and in answers (post-filter)."""

from __future__ import annotations

import re
import unicodedata

from shared.domain.ai_guard.text import WORD, fuzzy_in, normalise

# ---------------------------------------------------------------------------------------------------------
# Prices: amounts with a currency (both filters) and price words in questions (pre-filter).

_NUM = r"(?<![\d.,])\d{1,3}(?:[ .,']\d{3})+(?:[.,]\d{1,2})?(?!\d)|(?<![\d.,])\d+(?:[.,]\d{1,2})?(?!\d)"
# «5 тыс.», «4 тысячи», «5k», «2 млн» between an amount and its currency.
_MULTIPLIER = r"(?:тыс\w*\.?|k\b|к\b|thousands?\b|млн\b\.?|миллион\w*|millions?\b|mln\b)"
_CURRENCY_AFTER = (
    r"(?:₽|₴|₸|\$|€|£|руб\w*|р\.|р\b|rub\b|rur\b|rubles?\b|roubles?\b|usd\b|eur\b|euros?\b|евро\b|долл\w*|"
    r"dollars?\b|bucks?\b|грн\b|гривн\w*|гривен\w*|uah\b|hryvni?as?\b|gbp\b|тенге\b|kzt\b|byn\b|pln\b)"
)
_AMOUNT = re.compile(
    rf"(?>{_NUM})(?:\s*[-–—]\s*(?>{_NUM}))?\s*(?:{_MULTIPLIER}\s*)?{_CURRENCY_AFTER}"
    rf"|(?:[$€£₽₴₸]|\b(?:usd|eur|us\$|gbp|rub|uah)\b)\s?(?>{_NUM})"
)
_CURRENCY_SIGN = re.compile(r"[$€£₽₴₸¥]")
# Answers only: a currency named anywhere, with or without an amount (a school FAQ answer has no reason to).
# Words that are also ordinary words («rub», «pound sign», «per cent») count only where they cannot be read
# otherwise; any character of the Unicode category Sc (currency symbol) counts too, see `_names_currency`.
_CURRENCY_WORD = re.compile(
    r"\b(?:рубл\w*|руб\b|доллар\w*|долл\b|евро\b|гривн\w*|гривен\w*|грн\b|тенге\b|злот\w*|копе(?:ек|йк\w*)|"
    r"цент(?:а|ов|ы)?\b|dollars?|bucks|euros?|usd|eur|gbp|uah|kzt|byn|pln|rur|rubles?|roubles?|"
    r"hryvni?as?|tenge|zloty|zlotys|pence|(?<!per )cents?|pounds?(?! (?:sign|key|symbol)))\b"
)

_UNITS = (
    r"(?:лет|года?|годам|years?|yrs?|yo|минут\w*|мин|min|mins|minutes?|час\w*|hours?|hrs?|урок\w*|занят\w*|"
    r"lessons?|classes|class|sessions?|раз\w*|times?|дет\w*|ребен\w*|children|child|kids?|students?|"
    r"учени\w*|человек|people|persons?|недел\w*|weeks?|месяц\w*|months?|дн\w*|days?|класс\w*|grades?|"
    r"модул\w*|modules?|siblings?|brothers?|sisters?|братьев|сестер|семестр\w*|terms?|levels?|уровн\w*|"
    r"курс\w*|courses?|участник\w*|places?|мест\w*|pm|am|утра|вечера|дня|числ\w*|th|st|nd|rd|го|"
    r"январ\w*|феврал\w*|марта?|апрел\w*|ма[яй]|июн\w*|июл\w*|августа?|сентябр\w*|октябр\w*|ноябр\w*|"
    r"декабр\w*|january|february|march|april|may|june|july|august|september|october|november|december)\b"
)
_PRICE_WORD_ANSWER = (
    r"\b(?:стоимост\w*|цен[аыуе]|ценой|стоит|стоят|стоить|стоил\w*|обойдет\w*|обойдут\w*|оплат\w*|тариф\w*|"
    r"абонемент\w*|скидк\w*|прайс\w*|prices?|priced|pricing|costs?|costing|fees?|tuition|payments?|"
    r"discounts?|charges?|charged|subscriptions?)\b"
)
# The rest of the sentence after a price word (at most 60 characters; a decimal point does not end it).
_PRICE_WORD_WINDOW = re.compile(rf"{_PRICE_WORD_ANSWER}((?:[^.!?\n]|(?<=\d)\.(?=\d)){{0,60}})")
# Every amount in that window that is not a count of something («8 уроков», «7–14 лет», «15:00», «1-го»).
_WINDOW_AMOUNT = re.compile(
    rf"(?<!\d:)(?>(?:{_NUM})(?:\s*[-–—]\s*(?:{_NUM}))?)(?!\s*(?:{_UNITS}|:\d)|-[^\W\d_]{{1,3}}\b)"
)
_VERSION_BEFORE = re.compile(r"\b(?:python|scratch|version|версии|версия|v)\s*$")
# «…стоит около пяти тысяч»: an amount in words.
_WINDOW_MULTIPLIER = re.compile(
    rf"\b(?:тысяч\w*|тыс\b|thousands?|hundreds?|сот(?:ен|ни|ня)|млн|миллион\w*|millions?)\b"
    rf"(?!\s*(?:of\b|{_UNITS}|родител\w*|parents?\b|famil\w*|сем(?:ей|ьи|ьям)\b|выпускник\w*|graduates?\b))"
)
_NUMBER_PER_UNIT = re.compile(
    rf"(?:(?<![\d.,])\d{{2,}}(?:[.,]\d+)?\s*(?:per|за|/)|(?<![\d.,])\d+(?:[.,]\d+)?\s*{_MULTIPLIER}\s*"
    r"(?:per|за|в|a|/))\s*(?:lesson|class|session|hour|month|урок|занятие|час|месяц)"
)


# Price words in questions. Exact: short or ambiguous words («цены», «почем» is one typo from «почему»).
_PRICE_EXACT = frozenset(
    """
    цена цены цен цену ценой ценам ценах цэна цэны цэну ценник прайс прайса прайсы прайслист почем
    платно платный платная платное платные платных платить заплатить платим доплата доплатить доплачивать
    дорого дороговато недорого дешево дешевле дороже
    руб рубль рубля рублей грн гривна гривны гривен гривень евро доллар доллара долларов бакс баксов баксы
    коштує коштують коштуе вартість вартiсть ціна ціни
    price prices priced pricey pricy prise prises prce pirce pricelist cost costs costing costly
    fee fees cheap cheaper cheapest affordable usd eur euro euros dollar dollars doller dollers dolar dolars
    bucks rub rubles roubles uah paid
    """.split()
)
_PRICE_STEMS = (
    "стоимост", "оплат", "оплач", "тариф", "рассрочк", "абонемент", "скидк", "скидок", "ценник", "прайс",
    "рубл", "гривн", "доллар", "вартіст", "скидоч",
)  # fmt: skip
_PRICE_FUZZY = (
    "стоимость", "стоимости", "стоимостью", "ценник", "оплата", "оплату", "оплаты", "оплатить", "оплачивать",
    "скидка", "скидки", "скидку", "скидок", "рассрочка", "рассрочку", "рассрочки", "абонемент", "абонементы",
    "абонемента", "тариф", "тарифы", "тарифа", "тарифов", "рублей", "долларов", "гривен",
    "tuition", "payment", "payments", "discount", "discounts", "subscription", "subscriptions", "expensive",
    "pricing", "installment", "installments", "instalment", "instalments",
)  # fmt: skip
_NOT_PRICE_TYPOS = frozenset({"pavement", "pricking", "expansive", "плотно", "почему"})
_HOW_MANY_RU = ("сколько", "скока", "скоко", "сколко", "скольк", "сколька", "скольки", "скок")
_COSTS_RU = frozenset(
    "стоит стоят стоить стоет стоют стоил стоила стоило стоили обойдется обойдутся обойдеться денег платить "
    "заплатить оплатить стоимость".split()
)
_TAKE_RU = frozenset({"берете", "берут", "возьмете"})  # «сколько берёте» — right after «сколько» only
_MUCH = frozenset({"much", "mutch", "mush", "muc", "mch"})
# «How much time / homework / practice…»: the word right after «how much» that makes it not a price.
_HOW_MUCH_NOT_PRICE_NEXT = frozenset(
    """
    time homework practice practise practicing practising hours hour minutes minute days weeks progress
    attention experience effort knowledge screen work study studying preparation prep sleep english math maths
    coding programming python content material materials support help involvement fun of parental
    """.split()
)
# …or a verb later on: «how much will my child learn / improve / practise».
_HOW_MUCH_NOT_PRICE_LATER = frozenset(
    """
    learn learns improve improves progress practice practise practising practicing study know understand speak
    read write remember help involved participate homework time attention
    """.split()
)
_PAY = frozenset({"pay", "paying", "pays"})
_PAY_BEFORE = frozenset({"to", "i", "we", "do", "can", "should", "must", "need", "will", "how", "you"})
_PAY_AFTER = frozenset({"for", "per", "by", "with", "monthly", "weekly", "upfront", "online", "via", "in"})
_PAY_NOT = frozenset({"attention", "respect", "visit", "tribute", "off", "heed"})
_CHARGE = frozenset({"charge", "charges", "charged"})
_SENTENCE = re.compile(r"[.!?…\n]+")


def _is_price_word(token: str) -> bool:
    if token in _PRICE_EXACT or token.startswith(_PRICE_STEMS):
        return True
    return fuzzy_in(token, _PRICE_FUZZY, _NOT_PRICE_TYPOS) is not None


def _is_how_many_ru(token: str) -> bool:
    return token in _HOW_MANY_RU or fuzzy_in(token, ("сколько",)) is not None


def _is_cost_verb_ru(token: str) -> bool:
    return token in _COSTS_RU or fuzzy_in(token, ("стоит", "стоят", "стоить")) is not None


def _price_in_sentence(tokens: list[str]) -> bool:
    for i, token in enumerate(tokens):
        after = tokens[i + 1 :]
        before = tokens[i - 1] if i else ""
        if _is_price_word(token):
            return True
        if _is_how_many_ru(token) and (
            any(_is_cost_verb_ru(t) for t in after[:4]) or (after and after[0] in _TAKE_RU)
        ):
            return True
        if token in ("how", "hw", "hou") and after and after[0] in _MUCH:
            rest = after[1:]
            if not (rest and rest[0] in _HOW_MUCH_NOT_PRICE_NEXT) and not (
                _HOW_MUCH_NOT_PRICE_LATER & set(rest[:6])
            ):
                return True
        if token in _PAY and not (after and after[0] in _PAY_NOT):
            if before in _PAY_BEFORE or (after and after[0] in _PAY_AFTER):
                return True
        if (
            token in _CHARGE
            and before != "in"
            and (
                before in {"you", "do", "we", "they", "what", "the", "any", "extra", "additional", "of"}
                or (after and after[0] in {"for", "per"})
            )
        ):
            return True
    return False


def is_price_question(text: str) -> bool:
    norm = normalise(text)
    if _CURRENCY_SIGN.search(norm) or _AMOUNT.search(norm):
        return True
    return any(_price_in_sentence(WORD.findall(sentence)) for sentence in _SENTENCE.split(norm))


def _names_currency(norm: str) -> bool:
    return any(unicodedata.category(ch) == "Sc" for ch in norm) or bool(_CURRENCY_WORD.search(norm))


def _price_word_then_amount(norm: str) -> bool:
    for match in _PRICE_WORD_WINDOW.finditer(norm):
        window = match.group(1)
        for amount in _WINDOW_AMOUNT.finditer(window):
            if not _VERSION_BEFORE.search(window, 0, amount.start()):
                return True
        if _WINDOW_MULTIPLIER.search(window):
            return True
    return False


def mentions_price(answer: str) -> bool:
    """An amount with a currency, any currency at all, a price word followed by an amount, «3000 за урок»."""
    norm = normalise(answer)
    return (
        _names_currency(norm)
        or bool(_AMOUNT.search(norm))
        or _price_word_then_amount(norm)
        or bool(_NUMBER_PER_UNIT.search(norm))
    )
