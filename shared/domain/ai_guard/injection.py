"""The pre-filter's injection corpus: patterns over several views of a question (spelt out, leet, typos)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from shared.domain.ai_guard.text import WORD, fuzzy_in, normalise, script_of

# ---------------------------------------------------------------------------------------------------------
# Pre-filter, injection: regular expressions over several views of the text.
#
# In the pattern sources a space is a required gap between words, «~» an optional one and «¦» a word
# boundary. Each source compiles twice: for ordinary text (gap: any run of non-letters; «¦»: \b) and for
# text that was spelt out letter by letter, «i g n o r e a l l», whose words come out glued together
# (gap: optional; «¦»: nothing).

_IGN_EN = (
    r"(?:ignore|disregard|forget|skip|bypass|override|overlook|neglect|abandon|discard|drop|erase|delete|"
    r"throw away|put aside|set aside|dont follow|don't follow|do not follow|stop following|stop obeying|"
    r"no longer follow)"
)
_KEY_EN = (
    r"(?:all|any|every|each|previous|previously|prior|above|earlier|preceding|past|former|original|initial|"
    r"system|your|ur|these|those|given|existing|current|default|safety|developer|developers|openai|preset|"
    r"predefined|built-in|builtin|hidden|secret|programmed)"
)
_FILL_EN = r"(?:the|of|my|a|an|and|or|you|were|was|have|been|given|to|that|which|s)"
_NOUN_EN = (
    r"(?:instructions?|instruction set|rules?|prompts?|guidelines?|commands?|constraints?|restrictions?|"
    r"programming|guidance|directives?|directions|polic(?:y|ies)|filters?|limitations?|training|guardrails?|"
    r"protocols?|principles|context|settings|safeguards|ethics|morals|boundaries|content policy)"
)
_REVEAL_EN = (
    r"(?:show|reveal|print|display|output|repeat|recite|tell|give|share|leak|dump|expose|write|type|list|"
    r"send|paste|copy|spell|translate|summari[sz]e|describe|provide|return|disclose|echo|read|"
    r"what are|what were|what is|what's|whats)"
)
_SECRET_ADJ_EN = (
    r"(?:exact|full|complete|entire|whole|original|initial|hidden|secret|system|internal|developer|"
    r"confidential|first|raw|verbatim|current)"
)
_NOT_ABOUT_SCHOOL_EN = (
    r"(?! (?:for|on|about|regarding|to|how|reply|response|answer|attention|"
    r"of (?:the|your|this) (?:course|school|lesson|class|trial)))"
)
_SUBJECT_EN = (
    r"(?:you are|you re|youre|you will be|you ll be|become|act|answer|respond|reply|behave|operate|talk|"
    r"speak|ai|bot|assistant|model|gpt|chatgpt|mode|version|chatbot|yourself)"
)
_BLOCKS_EN = (
    r"(?:restrictions|limitations|limits|filters?|censorship|guardrails|boundaries|safeguards|rules|"
    r"guidelines|ethics|morals|moral|ethical|restraints)"
)

_IGN_RU_BARE = (
    r"(?<!не\s)(?:игнорируй(?:те)?|проигнорируй(?:те)?|игнорировать|проигнорировать|отбрось(?:те)?|"
    r"пренебреги(?:те)?|наплюй(?:те)? на|плюнь(?:те)? на)"
)
_IGN_RU = (
    r"(?<!не\s)(?:забудь(?:те)?|забыть|не обращай(?:те)? внимания на|не обращать внимания на|"
    r"не следуй(?:те)?|не слушай(?:те)?|не слушайся|перестань(?:те)? следовать|прекрати(?:те)? следовать|"
    r"не учитывай(?:те)?|"
    r"отмени(?:те)?|сбрось(?:те)?|обнули(?:те)?|удали(?:те)?|выкинь(?:те)?|нарушь(?:те)?|обойди(?:те)?|"
    r"отключи(?:те)?|сними(?:те)?|отключить|снять|обойти|нарушить)"
)
_KEY_RU = (
    r"(?:все|всех|всем|свои|своих|твои|твоих|твоим|ваши|ваших|предыдущ\w*|прошл\w*|прежн\w*|ранее|данн\w*|"
    r"полученн\w*|изначальн\w*|исходн\w*|первоначальн\w*|системн\w*|эти|этих|вышеуказанн\w*|"
    r"вышеизложенн\w*|вышеперечисленн\w*|старые|старых|заданн\w*|установленн\w*|выданн\w*|прописанн\w*|"
    r"встроенн\w*|заложенн\w*|любые|любых|всякие|всяких)"
)
_FILL_RU = (
    r"(?:на|о|об|про|мне|тебе|вам|тебя|вас|которые|что|были|был|была|было|даны|дали|до|этого|этой|выше|"
    r"сейчас|уже|просто|пожалуйста|абсолютно|полностью|те)"
)
_NOUN_RU = (
    r"(?:инструкци|правил|указани|ограничени|настройк|промпт|промт|запрет|директив|установк|команд|"
    r"предписани|инструктаж|принцип|фильтр|рамк|контекст|политик|цензур)\w*"
)
_REVEAL_RU = (
    r"(?:покажи|покажите|выведи|выведите|напиши|напишите|скажи|скажите|расскажи|расскажите|раскрой|"
    r"раскройте|дай|дайте|повтори|повторите|процитируй|процитируйте|распечатай|распечатайте|скинь|скиньте|"
    r"пришли|пришлите|отправь|отправьте|перечисли|перечислите|озвучь|озвучьте|скопируй|скопируйте|опиши|"
    r"опишите|переведи|переведите|выдай|выдайте|продублируй|воспроизведи|назови|поделись)"
)
_SECRET_KEY_RU = (
    r"(?:свои|своих|свой|твои|твоих|твой|твою|исходн\w*|изначальн\w*|системн\w*|скрыт\w*|секретн\w*|"
    r"первоначальн\w*|внутренн\w*|конфиденциальн\w*|оригинальн\w*|тебе данн\w*|данн\w* тебе|"
    r"выданн\w* тебе|полученн\w*|заложенн\w*|встроенн\w*)"
)
_HEDGE_RU = r"(?:(?:мне|нам|пожалуйста|сюда|тут|весь|всю|все|полностью|целиком|дословно) )*"

_INJECTION_SOURCES: tuple[str, ...] = (
    # «Ignore all previous instructions», «forget your rules».
    rf"¦{_IGN_EN} (?:{_FILL_EN} ){{0,3}}{_KEY_EN} (?:(?:{_KEY_EN}|{_FILL_EN}) ){{0,4}}{_NOUN_EN}¦",
    rf"¦{_IGN_EN} (?:(?:the|all|everything|of|that|this) )*(?:above|aforementioned)¦"
    r"(?! (?:message|question|email|mail|typo|mistake|one))",
    r"¦(?:ignore|disregard|forget) (?:all|everything) (?:that |what )?(?:you (?:were|have been|ve been|got|"
    r"know|learned|learnt|are told)|above|before|so far|said (?:before|above|earlier)|previously)¦",
    r"¦(?:ignore|disregard) (?:all|everything)¦"
    r"(?! (?:\w+ )?(?:message|messages|mail|email|question|typo|mistake|i (?:wrote|said|sent)))",
    # Asking for the system prompt.
    r"¦(?:system|initial|original|hidden|secret|internal|developer|pre|underlying|master|meta|confidential)"
    r"~prompts?¦",
    r"¦(?:system|hidden|secret|developer|confidential) "
    r"(?:instructions?|directives?|configuration|guidelines)¦",
    rf"¦{_REVEAL_EN} (?:(?:me|us|out|back|all|the|of) )*(?:your|ur|{_SECRET_ADJ_EN}) "
    rf"(?:{_SECRET_ADJ_EN} )*(?:prompt|instructions|directives|configuration|system message|"
    r"developer message|initial message|instruction set|programming|rules you (?:were|have been|follow))¦"
    rf"{_NOT_ABOUT_SCHOOL_EN}",
    r"¦(?:repeat|print|output|display|echo|reproduce|recite|show|reveal|write|copy|paste|type|tell|give|"
    r"translate|summari[sz]e|list|dump|return) (?:(?:me|us|back|out|all|the|everything|every|each|whole|"
    r"entire|full|of|your|first|exact|last|previous|above) )*(?:text|words?|message|messages|content|lines?|"
    r"sentences?|conversation|everything|instructions|prompt|context|paragraphs?|characters|tokens|chat|"
    r"history) (?:\w+ ){0,3}(?:above|before (?:this|that|my|it)|preceding|verbatim|word for word|so far|"
    r"at the (?:top|beginning|start)|from the (?:top|beginning|start) of (?:the|this|our|your) "
    r"(?:conversation|chat|prompt|context))¦",
    r"¦first (?:line|sentence|words?|paragraph|message) of (?:your|the|this) (?:prompt|instructions|system|"
    r"conversation|context)¦",
    r"¦(?:text|content|contents|wording) of (?:your|ur|the) (?:system |initial |original |hidden |secret )?"
    rf"(?:prompt|instructions)¦{_NOT_ABOUT_SCHOOL_EN}",
    r"¦what (?:does|do|did) (?:your|ur) (?:system )?(?:prompt|instructions) "
    r"(?:say|contain|look like|tell you|include)¦",
    r"¦(?:what|everything|text|all) (?:was |is |that was )?(?:written|said|stated) (?:before|above) "
    r"(?:my|this|the) (?:message|question|conversation|line)¦",
    r"¦how (?:were|are) you (?:programmed|instructed|configured|prompted|set up|told|trained to)¦",
    r"¦what (?:instructions|rules|prompt|directives|orders) (?:were|have) you (?:been )?(?:given|told|"
    r"received|programmed)¦",
    r"¦what (?:were|have) you (?:been )?(?:told|instructed|programmed) (?:to|not to)¦",
    r"¦(?:end|begin|start) of (?:the )?(?:system |new |user )?(?:prompt|instructions|context)¦",
    # A new identity: «you are now…», «from now on…», «act as», «pretend you are».
    r"¦you(?: are| re|re| r) now¦(?! (?:open|closed|offering|accepting|enrolling|available|recruiting|able|"
    r"ready|hiring|running|teaching|in|on|at|online|offline|working|booking|fully)¦)",
    r"¦you(?: are| re|re) no longer¦(?! (?:open|offering|accepting|enrolling|available|recruiting|hiring|"
    r"running|teaching|working|booking)¦)",
    r"¦you (?:will|shall|must) now (?:be|act|respond|answer|reply|speak|talk|pretend|behave|only|follow|obey|"
    r"ignore|roleplay|play)¦",
    r"¦from now on¦~(?:you(?: are| re|re| will be| ll be| must| shall| have no| can do| act| respond| answer|"
    r" reply| ignore| forget| pretend| obey| follow| only| speak| talk| behave)|your (?:name|role|new|only|"
    r"task|job|instructions|rules|purpose|goal|answers|responses)|act|pretend|behave|ignore|forget|"
    r"disregard|do not follow|don t follow|dont follow|be|(?:only )?(?:answer|respond|reply) (?:as|like|"
    r"without|with no|in character))¦",
    r"(?:^|[.!?:;\n])~(?:(?:please|pls|plz|kindly|ok|okay|so|now|and|then|just|hey|hi|hello) )*"
    r"act (?:as|like)¦",
    r"¦(?:you|u) (?:to|will|must|should|shall|need to|have to|are going to|gonna|now) act (?:as|like)¦",
    r"¦act (?:as|like) (?:an? |the |my |if |though )?(?:dan|ai|bot|chatbot|unrestricted|jailbroken|evil|"
    r"hacker|linux|terminal|developer|admin|administrator|system|gpt|chatgpt|different|grandma|grandmother|deceased|"
    r"you (?:are|have|were)|there (?:are|were) no|unfiltered|uncensored|root|sudo)¦",
    r"¦pretend(?:ing)? (?:that )?(?:you|u|ur|your|to be (?:an? )?(?:ai|bot|assistant|chatbot|human|person|"
    r"dan|developer|admin|unrestricted|evil|hacker|different (?:ai|assistant|bot|model)))¦",
    r"¦imagine (?:that )?(?:you|u) (?:are|re|were|r|have no|can|could)¦",
    r"¦(?:let s|lets|let us|we will|we ll|we are going to|we re going to|i want to|i want you to) "
    r"(?:(?:do|play|start) )?(?:an? )?role~play¦",
    r"¦role~play(?:ing)? (?:as|with me as|a scenario where you)¦",
    r"¦(?:in this|this is an?|start an?|begin an?) role~play(?:ing)?¦",
    r"¦(?:stay|remain|break|get out of|step out of) (?:in~)?character¦",
    r"¦(?:you|u) (?:will|must|shall|are going to|now) play (?:the role|the part|a character)¦",
    r"¦play the (?:role|part) of (?:an? |the )?(?:ai|dan|unrestricted|evil|hacker|developer|system|admin|"
    r"chatbot|bot|assistant|gpt|chatgpt|different)¦",
    r"¦stop being (?:an? |the )?(?:assistant|ai|bot|chatbot|helpful|polite|academy|school)¦",
    # Jailbreak personas and modes.
    r"¦dan (?:mode|jailbreak|prompt|version)¦",
    r"¦(?:you are|you re|youre|act as|become|stay|ты|стань|режим|в роли) dan¦",
    r"¦do anything now¦",
    r"¦(?:developer|dev|admin|sudo|unrestricted|jailbreak|jailbroken|evil|unfiltered|uncensored|dan|unlocked|"
    r"no restrictions?|no filters?) mode¦(?! (?:in|of|for)¦)",
    r"¦(?:enable|activate|enter|switch (?:to|into)|turn on|unlock|go into) (?:the )?(?:developer|dev|dan|"
    r"jailbreak|unrestricted|sudo|admin|debug|god|root) mode¦",
    r"¦jail~(?:break|broken)",
    r"¦pwned¦",
    rf"¦{_SUBJECT_EN} (?:\w+ ){{0,2}}(?:with )?(?:no|without(?: any)?|free of|free from|zero) (?:\w+ )?"
    rf"{_BLOCKS_EN}¦(?! (?:on|for|of|about|regarding|in)¦)",
    r"¦(?:unrestricted|unfiltered|uncensored) (?:ai|mode|assistant|bot|chatbot|version|model|gpt|chatgpt|"
    r"responses?|answers?|persona)¦",
    r"¦(?:you are|you re|youre|be|become|act|stay) (?:now )?(?:an? )?(?:unrestricted|unfiltered|uncensored|"
    r"unlimited|unbound)¦",
    r"¦without (?:any )?(?:censorship|filters|guardrails|safety filters|content filters)¦",
    r"¦(?:disable|turn off|deactivate|switch off|bypass|circumvent|override|ignore) (?:\w+ ){0,2}(?:filters?|"
    r"safety|guardrails?|safeguards?|censorship|content policy|moderation|restrictions|limitations)¦",
    # Fake role markers and instruction blocks.
    r"^[^\w\n]{0,3}(?:system|assistant|developer|sys|admin|root|system prompt|system message|"
    r"new system prompt|система|системное сообщение|ассистент|разработчик)[^\S\n]*[:>\]]",
    r"<\|?(?:im_start|im_end|im_sep|endoftext|system|user|assistant|begin_of_text|start_header_id|"
    r"end_header_id|eot_id)\|?>",
    r"\[/?(?:inst|system|sys|assistant)\]",
    r"<</?sys>>",
    r"<\s*/?\s*(?:system|sys|instructions?)\s*>",
    r"#{2,}~(?:instructions?|system|response|input|new instructions|инструкция|система)¦",
    r"(?:^|\n)~sudo¦",
    # «New instructions», «override».
    r"¦(?:here are|here re|heres|here is|these are|follow|following|obey|your|the following) (?:\w+ )?new "
    r"(?:instructions|rules|directives|orders|guidelines|task|role|prompt|persona|system prompt)¦",
    r"¦new (?:system )?(?:instructions?|rules|directives|prompt|persona|task|role)~[:\-]",
    r"¦(?:updated|revised|real|actual|true|priority|important) (?:system )?"
    r"(?:instructions?|prompt|directives)~:",
    r"¦your (?:new|real|true|actual) (?:role|task|instructions|rules|purpose|persona|name|identity|goal|job|"
    r"prompt|directive)s?¦",
    r"¦(?:system|admin|developer|emergency|security|manual|master|root|sudo) override¦",
    r"¦override (?:mode|code|command|protocol|activated|enabled|accepted|granted|authori[sz]ed)¦",
    r"¦override~:",
    # Russian: «игнорируй все предыдущие инструкции», «забудь свои правила».
    rf"¦{_IGN_RU_BARE} (?:(?:{_KEY_RU}|{_FILL_RU}) ){{0,4}}{_NOUN_RU}",
    rf"¦{_IGN_RU} (?:{_FILL_RU} ){{0,3}}{_KEY_RU} (?:(?:{_KEY_RU}|{_FILL_RU}) ){{0,3}}{_NOUN_RU}",
    r"¦(?<!не\s)(?:игнорируй(?:те)?|проигнорируй(?:те)?|забудь(?:те)?|отбрось(?:те)?|"
    r"не обращай(?:те)? внимания на) (?:(?:все|всe) )?(?:вышесказанное|вышеизложенное|вышенаписанное|"
    r"сказанное (?:ранее|выше|до этого)|написанное выше|что (?:было )?(?:написано|сказано) "
    r"(?:выше|ранее|до этого)|выше|предыдущее¦(?! (?:сообщени|письм|вопрос))|что (?:было )?(?:выше|раньше|"
    r"до этого)|кто ты)",
    r"¦(?<!не\s)(?:забудь(?:те)?|игнорируй(?:те)?|проигнорируй(?:те)?) (?:все|всe) (?:что|чему) "
    r"(?:тебе|вам|тебя|вас) (?:говорили|сказали|писали|велели|учили|задали|приказали)",
    # Russian: asking for the prompt or the instructions.
    rf"¦{_REVEAL_RU} {_HEDGE_RU}(?:{_SECRET_KEY_RU} )+(?:промпт|промт)\w*",
    r"¦(?:свой|свои|твой|твои|твоего|твоим|ваш|вашего|исходн\w*|изначальн\w*|системн\w*|скрыт\w*|секретн\w*|"
    r"первоначальн\w*|начальн\w*|внутренн\w*|конфиденциальн\w*|оригинальн\w*|полн\w*) (?:промпт|промт)\w*",
    r"¦у тебя (?:\w+ )?(?:промпт|промт)\w*",
    rf"¦{_REVEAL_RU} {_HEDGE_RU}(?:{_SECRET_KEY_RU} )+(?:\w+ )?(?:инструкци|установк|директив|указани|"
    r"настройк|правил|ограничени)\w*¦(?! (?:по|для|к|о|об|насчет|как|на)¦)",
    r"¦системн\w* (?:промпт|промт|инструкци|указани|установк|директив)\w*",
    r"¦(?:твои|твоих|твоим|твоя|твой) (?:\w+ )?(?:инструкци|установк|директив|промпт|промт|указани)\w*",
    r"¦какие (?:у тебя|тебе (?:дали|были даны|дал|выдали|задали|прописали)|ты получил) (?:\w+ )?"
    r"(?:инструкци|указани|правил|установк|директив|ограничени)\w*",
    r"¦какие (?:инструкци|указани|правил|установк)\w* (?:тебе|ты) (?:дали|даны|получил|выдали|задали|"
    r"прописали|следуешь)",
    r"¦что тебе (?:сказали|велели|приказали|запретили|запрещено|написали|прописали) (?:в|делать|говорить|"
    r"отвечать|не)¦",
    r"¦как тебя (?:запрограммировали|настроили|проинструктировали|обучили)",
    r"¦(?:повтори|повторите|выведи|выведите|покажи|покажите|процитируй|процитируйте|напиши|напишите|"
    r"скопируй|скопируйте|перепиши|перепишите|распечатай|распечатайте|переведи|переведите|выдай|перескажи) "
    r"(?:мне~)?(?:дословно~|полностью~|целиком~)?(?:(?:весь|все|полностью) )?(?:текст|сообщени\w*|слова|то|"
    r"все|инструкци\w*|промпт\w*|промт\w*|содержимое|написанное|предыдущ\w*|первое сообщение|самое первое)"
    r"(?: \w+){0,4} (?:выше|ранее|до этого|в начале|сначала|дословно|над этим|перед этим)¦",
    # Russian: a new identity.
    r"¦(?:ты теперь|теперь ты|отныне ты|с этого момента ты)¦(?! (?:можешь|понял|понимаешь|знаешь|видишь|"
    r"ответишь|скажешь|помнишь|сможешь|мне|нам|тоже|уже)¦)",
    r"¦(?:с этого момента|с этой минуты|отныне|впредь|с сегодняшнего дня)¦~(?:ты|твои|твоя|твой|тебе|тебя|"
    r"ты должен|отвечай|действуй|действуйте|веди себя|ведите себя|будь|будьте|будешь|игнорир\w*|"
    r"забудь\w*|называй себя|представляйся|притворяйся|не следуй|следуй только)¦",
    r"¦(?:представь|представьте|вообрази|вообразите)(?: себе)?~(?:что )?ты¦",
    r"¦(?:притворись|притворитесь|притворяйся|притворяйтесь|прикинься|прикиньтесь|прикидывайся)¦",
    r"¦(?:сыграй|сыграйте|играй|играйте|исполни|исполните|прими|примите|возьми|возьмите) (?:на себя )?"
    r"рол[ьи]¦",
    r"¦(?:выступи|выступай|выступите|выступайте) в роли¦",
    r"¦(?:веди|ведите) себя как¦",
    r"¦(?:действуй|действуйте) (?:как|в роли|от имени|без)¦",
    r"¦ты (?:в роли|играешь роль|теперь в роли)¦",
    r"¦(?:войди|войдите|выйди|выйдите|выходи) (?:в роль|из роли|из образа)¦",
    r"¦ролев\w* игр\w* (?:где|в которой) ты¦",
    r"¦ты больше не (?:бот|ассистент|помощник|ии|модель|ограничен\w*|обязан|должен|связан|чат~?бот|"
    r"консультант)",
    # Russian: jailbreak modes, «без ограничений», new instructions.
    r"¦режим\w* (?:разработчика|разраба|dan|админ\w*|без ограничений|без цензуры|джейлбрейк\w*|"
    r"бесконтрольн\w*|неограниченн\w*|суперпользовател\w*)¦(?! (?:в|на|для|у)¦)",
    r"¦(?:включи|включите|активируй|активируйте|перейди|перейдите|войди|войдите)~(?:в )?режим\w* "
    r"(?:разработчика|разраба|бога|dan|админ\w*|отладки|без|джейл\w*|бесконтрольн\w*|неограниченн\w*)",
    r"¦(?:джейл|джеил)~брейк\w*",
    r"¦(?:ты|отвечай|отвечать|работай|работать|говори|говорить|общайся|общаться|бот|ии|ассистент|модель|"
    r"помощник|ответь|действуй|действовать|будь|нейросеть|режим) (?:\w+ ){0,3}без (?:каких~(?:либо|то) |"
    r"всяких |любых )?(?:ограничений|правил|цензуры|фильтров|запретов|рамок|морали|этики)¦"
    r"(?! (?:по|на|в)¦)",
    r"¦без (?:каких~(?:либо|то) |всяких |любых )?(?:цензуры|фильтров|моральных|этических)¦",
    r"¦(?:отключи|отключите|выключи|выключите|обойди|обойдите|сними|снимите|убери|уберите|деактивируй|"
    r"деактивируйте) (?:\w+ ){0,2}(?:ограничени|фильтр|цензур|запрет|модераци|защит)\w*¦"
    r"(?! (?:по|на|для|в)¦)",
    r"¦(?:вот|твои|следуй|следуйте|выполняй|выполняйте|прими|примите) (?:\w+ )?нов\w+ (?:инструкци|правил|"
    r"указани|директив|установк|роль|задач)\w*",
    r"¦нов\w+ (?:системн\w+ )?(?:инструкци|правил|указани|директив|установк)\w*~:",
    r"¦(?:твоя|твои|твой) нов\w+ (?:роль|задач|инструкци|правил|личност|имя|цель)\w*",
    r"¦переопредел\w* (?:\w+ )?(?:инструкци|правил|настройк|промпт|ограничени)\w*",
)


def _compile(sources: Iterable[str], glued: bool) -> re.Pattern[str]:
    gap, optional_gap, edge = (r"[\W_]*", r"[\W_]*", "") if glued else (r"[\W_]+", r"[\W_]*", r"\b")
    parts = [s.replace(" ", gap).replace("~", optional_gap).replace("¦", edge) for s in sources]
    if glued:  # words run together: bound every word so that splitting a long run stays cheap
        parts = [p.replace(r"\w+", r"\w{1,15}").replace(r"\w*", r"\w{0,15}") for p in parts]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.MULTILINE)


_INJECTION = _compile(_INJECTION_SOURCES, glued=False)
_INJECTION_GLUED = _compile(_INJECTION_SOURCES, glued=True)
_DAN = re.compile(r"\bD\.?A\.?N\b")  # the jailbreak persona is written in capitals; «Dan» is a name

# Text spelt out letter by letter, «i g n o r e» or «i.g.n.o.r.e»: four or more single characters.
_SPELT = re.compile(r"(?<![^\W_])[^\W_](?![^\W_])(?:(?:[^\w\n]|_){1,3}[^\W_](?![^\W_])){3,}")
_NOT_ALNUM = re.compile(r"[\W_]+")
_LONG_TOKEN = re.compile(r"[^\W_]{10,}")  # «ForgetYourRules» after lower-casing
_GLUED_MAX = 300

_LEET_TOKEN = re.compile(r"[\w@$]*[^\W\d_][\w@$]*")
_LEET_LATIN = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                             "@": "a", "$": "s"})  # fmt: skip
_LEET_CYRILLIC = str.maketrans({"0": "о", "3": "з", "4": "ч", "6": "б", "@": "а"})
_LEET_L_WORDS = frozenset(
    "all rules rule tell will follow full only roleplay role filters filter limits limitations developer "
    "unlimited unfiltered complete reveal leak below self yourself model jailbreak jailbroken guidelines "
    "polite help unlock unlocked else".split()
)

# Typos of the words injections are made of, fixed before matching (a real other word is never «fixed»).
_INJECTION_WORDS = (
    "ignore", "disregard", "instructions", "instruction", "previous", "restrictions", "jailbreak",
    "developer", "pretend", "system", "prompt", "forget", "override", "guidelines", "roleplay",
    "игнорируй", "проигнорируй", "инструкции", "инструкций", "предыдущие", "промпт", "притворись",
    "ограничений", "разработчика",
)  # fmt: skip
_NOT_INJECTION_TYPOS = frozenset(
    {"ignores", "ignored", "forgot", "forgets", "systems", "pretends", "prompts", "prompted", "игнорирую",
     "ограничения", "ограничено"}
)  # fmt: skip


def _leet(text: str) -> str:
    """Digits and symbols read as letters of the word's script: «1gn0re» → ignore, «3абудь» → забудь."""

    def decode(match: re.Match[str]) -> str:
        token = match.group()
        if not any(ch in "013456789@$" for ch in token):
            return token
        letters = [script_of(ch) for ch in token]
        if letters.count("cyrillic") > letters.count("latin"):
            return token.translate(_LEET_CYRILLIC)
        as_l = token.replace("1", "l").translate(_LEET_LATIN)
        return as_l if as_l in _LEET_L_WORDS else token.translate(_LEET_LATIN)

    return _LEET_TOKEN.sub(decode, text)


def _untypo(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group()
        return fuzzy_in(word, _INJECTION_WORDS, _NOT_INJECTION_TYPOS) or word

    return WORD.sub(fix, text)


def _views(text: str) -> tuple[set[str], set[str]]:
    """Ordinary views of the text and the glued words of spelt-out runs, each also de-leeted and de-typoed."""
    base = normalise(text)
    glued = [_NOT_ALNUM.sub("", m.group()) for m in _SPELT.finditer(base)]
    spaced = _SPELT.sub(lambda m: " " + _NOT_ALNUM.sub("", m.group()) + " ", base)
    glued += _LONG_TOKEN.findall(base)
    glued = [run[:_GLUED_MAX] for run in glued]
    ordinary: set[str] = set()
    for view in {base, spaced}:
        for variant in (view, _leet(view)):
            ordinary.update((variant, _untypo(variant)))
    glued_views = {variant for run in glued for variant in (run, _leet(run))}
    return ordinary, glued_views


def is_injection(text: str) -> bool:
    ordinary, glued = _views(text)
    if any(_INJECTION.search(view) for view in ordinary):
        return True
    if any(_INJECTION_GLUED.search(run) for run in glued):
        return True
    cased = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    return bool(_DAN.search(cased))
