import { r, type SafetyRule } from "./rule-types.ts";

export { SAFETY_CATEGORIES, type SafetyCategory, type SafetyRule } from "./rule-types.ts";

// Who might be harming a child at home or in their care.
const CARER = String.raw`(?:dad|daddy|father|step-?dad|stepfather|mum|mummy|mom|mommy|mother|step-?mum|step-?mom|stepmother|parents?|uncle|aunt|auntie|grandpa|grandad|granddad|grandma|gran|nan|brother|sister|cousin|(?:mum|mom|mother)'?s (?:boyfriend|partner)|(?:dad|father)'?s (?:girlfriend|partner)|carer|foster \w+|guardian|coach|teacher|tutor|babysitter|neighbou?r)`;
const INTENT = String.raw`(?:i'?m|i am|i'll|i will|i'?m gonna|gonna|gunna|going to|want to|wanna|plan(?:ning)? to|about to|i'?m about to|i'?d like to)`;
// Things that get "killed", "shot" or "beaten" in games, code, gardens and idioms.
const NOT_A_PERSON = String.raw`(?:the |a |an |that |this |all the |all of the |some |these |those )?(?:process(?:es)?|zombies?|boss(?:es)?|monsters?|creepers?|mobs?|enemy|enemies|bugs?|weeds?|bacteria|germs|time|lights?|apps?|tasks?|threads?|servers?|programs?|mood|vibe|engine|game|level|round|quiz|test|exam|books|gym|record|ball|high ?score|snooze|button|it|pizza|burger|dragon|ender ?dragon|wither|character|npc|bots?|noobs?|final|me|tomorrow|tonight|today|later|after|this \w+ (?:test|exam|quiz|homework|assignment)|my\s?self|your\s?self|him\s?self|her\s?self|them\s?selves|our\s?selves)\b|(?:off|from|into|in|onto|on|over|out|up|down|around|at|through|with|for|to)\b`;
// "My dad will kill me when he sees this grade": the everyday idiom, not a threat.
const IDIOM =
  /\b(?:when (?:he|she|they|my \w+|mum|mom|dad) (?:sees?|finds? out|hears?|gets? home|notices?|checks?)|if (?:i|he|she|they|my \w+) (?:fail|find|finds|found|see|sees|saw|get|gets|don'?t|forget|miss|lose|break|am late|'m late)|grades?|report card|test scores?|marks|curfew|phone bill|i'?m late|be late|home late|(?:this|that|my) (?:mark|score|result))\b/;
const HYPERBOLE = /\b(?:lol|lmao|lmfao|haha+|jk|jokes?|so hard|so boring|so embarrass\w*|cringe|homework|this level|this test|this quiz|exam)\b|💀|😂|🤣|😭/u;

export const ENGLISH_RULES: SafetyRule[] = [
  // ── self-harm ──────────────────────────────────────────────────────────────
  {
    id: "sh.kill-self",
    category: "self-harm",
    severity: "critical",
    pattern: r(String.raw`\b(?:kill(?:ing|ed)?|kil|unaliv(?:e|ing|ed)|off(?:ing)?|hang(?:ing)?|shoot(?:ing)?|drown(?:ing)?)\s+my\s?self\b`),
    unless: /\blaugh/,
  },
  {
    id: "sh.unalive",
    category: "self-harm",
    severity: "critical",
    pattern: r(String.raw`\b(?:want|wanna|going|gonna|thinking|think|about)\b.{0,20}\bunaliv(?:e|ing)\b`),
  },
  {
    id: "sh.kms",
    category: "self-harm",
    severity: "critical",
    pattern: r(String.raw`(?<!\d\s?)\bkms\b`),
    // "lol kms i sent the pic to the wrong chat": the embarrassment joke, not a plan.
    unless: /\b(?:lol|lmao|lmfao|haha\w*|jk|by accident|accidentally|embarrass\w*|cringe|wrong (?:chat|person|group))\b|💀|😂|🤣/u,
  },
  {
    id: "sh.end-life",
    category: "self-harm",
    severity: "critical",
    pattern: r(String.raw`\b(?:end(?:ing)?|take|taking)\s+(?:my\s+(?:own\s+)?life|it\s+all|my\s+own\s+life)\b|\bcommit(?:ting)?\s+suicide\b`),
    firstPerson: true,
  },
  {
    id: "sh.method",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\bhow (?:many|much)\b.{0,30}\b(?:pills?|tablets?|paracetamol|tylenol)\b.{0,30}\b(?:overdose|od|die|kill|dead|lethal)\b|\b(?:painless|quick|easiest|best) ways? to die\b|\boverdos(?:e|ing) on\b|\btak(?:e|ing)\s+all\s+(?:of\s+)?(?:my|the|\w+'s)\b.{0,20}\b(?:pills|tablets|meds|medicine)\b`,
    ),
    unless: /\b(?:history|novel|character|essay|report)\b/,
  },
  {
    // A decided plan, said plainly: "tonight I'm ending it", "I've decided to end it", a goodbye note.
    id: "sh.plan",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:tonight|today|tomorrow|this weekend|after school|when everyone(?:'s| is) asleep)\b.{0,25}\b(?:i'?m|i am|i will|i'll|im)\s+(?:going to\s+|gonna\s+)?(?:end(?:ing)?|finish(?:ing)?) (?:it|everything|things|my life)\b|\b(?:i'?m|i am|i will|i'll|im)\s+(?:going to\s+|gonna\s+)?(?:end(?:ing)?|finish(?:ing)?) (?:it|everything|things)\b.{0,25}\b(?:tonight|today|tomorrow|this weekend|for good|once and for all)\b|\bi(?:'ve| have)? (?:decided|made up my mind|made the decision) to (?:end it|end (?:my|it all)|die|kill myself|go through with it)\b|\b(?:wrote|written|writing|left) (?:a |my )?(?:goodbye|suicide|last) (?:note|letter|message)s?\b|\b(?:giving|gave) away (?:all )?my (?:stuff|things|belongings)\b.{0,40}\b(?:won'?t need|not going to need|gone|end)\b|\bthis is my last (?:day|night|message|goodbye)\b|\bi won'?t be (?:here|around|alive) (?:tomorrow|much longer|next week|by)\b`,
    ),
    unless:
      /\b(?:essay|story|novel|book|character|chapter|poem|movie|film|game|season|series|streak|shift|semester|relationship|friendship|break ?up|dating|with (?:him|her|my (?:boyfriend|girlfriend|bf|gf))|appointment|dentist|doctor|vacation|trip|absent|holiday|visiting|out of town|camp|tournament|competition|sick)\b/,
  },
  {
    // Past attempts told as a story: "last year I tried to kill myself", "when I took all those pills".
    id: "sh.attempt",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\bi (?:tried|attempted|almost managed|was going) to (?:kill myself|end (?:my life|it(?: all)?)|take my (?:own )?life|hang myself|overdose|od)\b|\b(?:my|the) (?:suicide |last |first )?attempts?\b.{0,40}\b(?:hospital|survived|again|before|last year|ago|pills|overdose)\b|\bi (?:took|swallowed|downed) (?:a (?:whole )?(?:bunch|bottle|handful|box|packet) of|all (?:of )?(?:my|the|mum'?s|mom'?s|dad'?s)|like \d+|\d+)\b.{0,20}\b(?:pills|tablets|meds|painkillers|paracetamol|tylenol|advil|ibuprofen|sleeping pills)\b|\b(?:when|after|since|the time) i (?:tried to (?:die|kill myself)|overdosed|od'?d|attempted)\b|\bi(?:'ve| have)? (?:overdosed|od'?d) (?:before|once|twice|last|on)\b`,
    ),
    unless: /\b(?:essay|story|novel|book|character|chapter|poem|movie|film|game|in the|he|she|they)\b.{0,20}\b(?:tried|attempt)/,
  },
  {
    // Method and dose questions: how much is lethal, which way hurts least, how long it takes.
    id: "sh.method-question",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:lethal|fatal|deadly|toxic) (?:dose|amount|dosage|quantity)\b|\bhow (?:many|much)\b.{0,40}\b(?:to|would|will|does it take to|it takes to|before you|until you|till you|can)\s+(?:die|kill (?:you|me|a person|someone)|overdose|od|be fatal|be lethal|stop (?:your|my) heart)\b|\bhow (?:many|much)\b.{0,40}\b(?:is|are|would be)\s+(?:lethal|fatal|deadly|too many to survive|an overdose)\b|\b(?:painless|quickest|quick|easiest|easy|best|surest|fastest|least painful) (?:way|method|ways|methods) (?:to|of) (?:die|dying|kill (?:yourself|myself)|end (?:it|my life)|suicide)\b|\bhow long (?:does it|would it|will it) take to (?:die|bleed out|drown|suffocate|overdose)\b|\b(?:does|would|will) (?:hanging|drowning|overdosing|bleeding out|jumping)\b.{0,20}\b(?:hurt|be painful|work|be quick)\b|\bhow (?:high|tall)\b.{0,30}\b(?:to die|to kill (?:you|me)|to be fatal|be lethal|would kill)\b|\bhow (?:deep|hard)\b.{0,15}\b(?:cut|slit)\b.{0,20}\b(?:die|bleed out|vein|wrist)`,
    ),
    unless:
      /\b(?:essay|report|project|homework|assignment|chemistry|pharmacology|toxicology|nursing|for (?:class|school|science)|in the (?:book|novel|story|play)|character|animals?|dogs?|cats?|pets?|plants?|fish|bacteria|insects?|caffeine (?:for|in) (?:my|a) (?:project|report))\b/,
  },
  {
    id: "sh.jump",
    category: "self-harm",
    severity: "critical",
    pattern: r(String.raw`${INTENT}\s+(?:just\s+)?(?:jump|throw myself)\s+(?:off|from|in front of)\b`),
  },
  {
    id: "sh.want-die",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\b(?:want|wanna|wish|wishing|ready|going|gonna)\s+(?:to\s+)?(?:just\s+)?die\b|\bwish (?:that )?i (?:was|were|wasn'?t|weren'?t|had never been|was never|could)\b.{0,15}\b(?:dead|alive|born|die|disappear)|\b(?:go to sleep|sleep) and never wake up\b|\bnever wake up\b`,
    ),
    firstPerson: true,
    demote: { when: HYPERBOLE, to: "medium" },
  },
  {
    id: "sh.behaviour",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\b(?:cut|cutting|burn|burning|burned|burnt|hurt|hurting|harm|harming|starve|starving|scratch|scratching|punish|punishing|hit|hitting)\s+my\s?self\b`,
    ),
    unless: /\bon (?:a|the|some)\b|\baccident|\bby mistake\b|\bwhile (?:cooking|shaving|cutting|playing)\b|\bpaper\b/,
  },
  {
    id: "sh.self-harm-term",
    category: "self-harm",
    severity: "high",
    pattern: r(String.raw`\bself[- ]?harm(?:ing|ed)?\b`),
    firstPerson: true,
    unless: /\b(?:awareness|week|month|essay|report|project|leaflet|poster|definition)\b/,
  },
  {
    id: "sh.suicide",
    category: "self-harm",
    severity: "high",
    pattern: r(String.raw`\bsuicid(?:e|al)\b`),
    unless:
      /\b(?:rates?|statistics?|stats|squeeze|squad|bombers?|prevention|awareness|report|essay|research|project|history|novel|poem|character|article|definition|hotline|romeo|juliet|hamlet|book|debate|ethics|euthanasia|assisted|lesson|unit|health class|documentary|song|lyrics)\b/,
  },
  {
    id: "sh.not-alive",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\b(?:don'?t|do not|dont) want to (?:be alive|live|exist|be here)\b|\bno (?:point|reason) (?:in |to )?(?:living|being alive|live|life|going on)\b|\b(?:not|isn'?t|is not|no longer) worth living\b`,
    ),
  },
  {
    id: "sh.burden",
    category: "self-harm",
    severity: "high",
    pattern: r(String.raw`\bbetter off without me\b|\bbetter if i (?:was|were)n'?t (?:here|around|alive)\b|\bbetter if i (?:was|were) dead\b`),
  },
  {
    id: "sh.hopeless",
    category: "self-harm",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:nobody|no one|noone|no1) would (?:even )?(?:care|notice|miss me)\b|\bif i disappeared\b|\bi (?:feel|am|'m) (?:so |really |completely |totally )?(?:alone|worthless|hopeless|empty inside|like a burden)\b`,
    ),
  },
  // ── violence toward others ─────────────────────────────────────────────────
  {
    id: "v.school-attack",
    category: "violence",
    severity: "critical",
    pattern: r(
      String.raw`${INTENT}\s+(?:\w+\s+){0,2}?(?:shoot|shoot up|bomb|blow up|attack|stab|kill)\s+(?:up\s+)?(?:the |my |our |this )?(?:whole )?(?:school|class|classroom|everyone|everybody|students|teachers|all of them|them all)\b`,
    ),
  },
  {
    id: "v.weapon-to-school",
    category: "violence",
    severity: "critical",
    pattern: r(String.raw`\b(?:bring|bringing|take|taking|brought|carry|carrying)\b.{0,25}\b(?:gun|knife|knives|weapon|rifle|pistol|bomb|machete)\b.{0,20}\bschool\b`),
  },
  {
    id: "v.kill-threat",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`${INTENT}\s+(?:\w+\s+){0,2}?(?:kill|murder|stab|shoot|strangle|choke|poison)\s+(?!${NOT_A_PERSON})(?:him|her|them|you|u|my \w+|\w+)\b|\b(?:gonna|going to)\s+(?:kill|murder|stab|shoot)\s+(?!${NOT_A_PERSON})\w+`,
    ),
    unless:
      /\b(?:minecraft|fortnite|roblox|game|in the story|character|why (?:does|did|do|would)|novel|the book|chapter|play|lord of the flies|macbeth|hamlet|lol|lmao|jk|haha\w*)\b|😂|🤣|💀/u,
  },
  {
    id: "v.make-weapon",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`\bhow (?:do (?:i|you|u)|to|can (?:i|you|u)|would (?:i|you)|could (?:i|you))\s+(?:make|build|create|get|buy|find)\s+(?:a |an |some )?(?:\w+\s)?(?:bomb|explosive|explosives|pipe bomb|gun|guns|weapon|bullets|ammo)\b|\bwhere (?:can|do|could) (?:i|you|u) (?:buy|get|find) (?:a |some )?(?:gun|guns|bullets|ammo|ammunition|rifle|pistol|weapon)\b`,
    ),
    unless: /\bbath bombs?\b|\bseed bombs?\b|\bphoto ?bomb|\bglue gun|\bnerf\b|\bwater gun|\bminecraft|\bfortnite|\bgame\b/,
  },
  {
    id: "v.hurt-intent",
    category: "violence",
    severity: "medium",
    pattern: r(
      String.raw`${INTENT}\s+(?:\w+\s+){0,1}?(?:punch|hit|hurt|beat up|beat|smash|slap|kick|fight|jump|batter)\s+(?!${NOT_A_PERSON})(?:him|her|them|you|u|his|my \w+|\w+)\b`,
    ),
    unless: /\bthe (?:books|gym|record|ball|road)\b|\bhigh score\b|\bgame\b|\blevel\b|\b(?:lol|lmao|jk|haha\w*|test|exam|quiz|homework)\b|😂|🤣|💀/u,
  },
  {
    id: "v.revenge",
    category: "violence",
    severity: "medium",
    pattern: r(String.raw`\bmake (?:them|him|her|everyone|you) (?:all )?pay\b|\bthey'?(?:ll| will) (?:all )?(?:see|regret it|be sorry)\b`),
  },
  {
    id: "v.armed",
    category: "violence",
    severity: "medium",
    pattern: r(String.raw`\bi (?:have|got|'ve got|carry|brought|bought) (?:a |my |\w+'s )?(?:knife|gun|weapon|pistol|rifle|machete)\b`),
    unless: /\b(?:nerf|water|glue|toy|cooking|food tech|kitchen|butter)\b/,
  },
  // ── abuse (the student harmed by someone in their life) ────────────────────
  {
    id: "a.sexual-touch",
    category: "abuse",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:touches|touched|touching|feels up|molests?|molested|rapes?|raped)\s+me\b|\b(?:touches|touched|touching|rubs|rubbed|rubbing|strokes|stroked|grabs|grabbed)\s+my\s+(?:leg|legs|thigh|thighs|chest|butt|bum|body|privates?|private parts|breasts?|boobs|crotch|inner thigh)\b|\bi (?:was|got|am being|'m being|have been|'ve been) (?:raped|molested|sexually abused|abused)\b`,
    ),
    unless: /\b(?:song|story|movie|film|poem|book|speech|words|music|deeply|emotionally|heart|up the paint)\b/,
  },
  {
    id: "a.secrets",
    category: "abuse",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:keep|keeping) (?:it |this )?(?:a )?secrets?\b.{0,30}\bwhat (?:he|she|they) (?:does|did|do)\b|\bwhat (?:he|she|they) (?:does|did|do) to me\b.{0,40}\bsecret|\bsecret\b.{0,40}\bwhat (?:he|she|they) (?:does|did|do) to me\b`,
    ),
  },
  {
    id: "a.hit-by-carer",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\bmy\s+${CARER}\b.{0,20}?\b(?:hits|hit|beats|beat|slaps|slapped|punches|punched|kicks|kicked|hurts|hurt|chokes|choked|burns|burned|whips|whipped|strangles?|throws things at)\s+(?:me|us)\b`,
    ),
    unless: /\b(?:pillow|snowball|water balloon|accident|accidentally|by mistake|play(?:ing)?|play-?fight|joking|tickl\w*)\b/,
  },
  { id: "a.bruises", category: "abuse", severity: "high", pattern: r(String.raw`\b(?:bruises?|marks|scars|burns)\b.{0,30}\bfrom (?:my\s+)?${CARER}\b`) },
  {
    id: "a.hurt-at-home",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\bat home\b.{0,20}\b(?:hurts?|hurting|hits?|hitting|beats?|beating|abus\w*)\s+me\b|\b(?:someone|somebody|an adult|a grown ?up)\b.{0,20}\b(?:hurts?|hurting|hits?|hitting|abus\w*)\s+me\b`,
    ),
  },
  {
    id: "a.threat-if-tell",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\b(?:said|says|told me|threatened)\s+(?:that\s+)?(?:he|she|they)(?:'d| would| will|'ll)\s+(?:hurt|kill|hit|beat|punish)\s+(?:me|my \w+)\s+if\s+i\s+(?:ever\s+)?(?:told|tell|say)`,
    ),
    unless: /\b(?:lol|lmao|haha\w*|jk|bff|best friend|crush|surprise|spoil\w*|secret santa)\b|😂|🤣/u,
  },
  {
    id: "a.neglect",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\b(?:locks?|locked) me (?:in|out|up|outside)\b|\b(?:starves?|starving|starved) me\b|\b(?:doesn'?t|don'?t|won'?t|never) (?:let me eat|feed me|give me food)\b|\bwithout (?:any )?food\b.{0,20}\b(?:locked|room)\b`,
    ),
    unless: /\b(?:by accident|accidentally|game|escape room)\b/,
  },
  {
    id: "a.unsafe-home",
    category: "abuse",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:scared|afraid|frightened|terrified) (?:to go|of going|to be) home\b|\b(?:don'?t|do not|never) feel safe (?:at home|with my \w+|in my house)\b|\b(?:scared|afraid|frightened|terrified) of my\s+${CARER}\b`,
    ),
  },
  // ── sexual content and exploitation ────────────────────────────────────────
  {
    id: "s.grooming",
    category: "sexual",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:asked|asks|asking|wants?|wanted|told|tells|begging|begged|pressur\w*|keeps? asking)\s+me\b.{0,30}\b(?:nudes?|noods|naked|pics? of (?:my|me)|photos? of (?:my|me)|pictures? of (?:my|me)|my body)\b`,
    ),
  },
  {
    id: "s.nudes",
    category: "sexual",
    severity: "high",
    pattern: r(String.raw`\b(?:send|sending|share|show|want|give)\b.{0,15}\b(?:nudes?|noods|naked (?:pics?|pictures|photos|selfies?))\b`),
    unless: /\b(?:never|don'?t|shouldn'?t|should not|why is it|law|illegal|safety)\b/,
  },
  {
    id: "s.porn",
    category: "sexual",
    severity: "high",
    pattern: r(String.raw`\bporn(?:o|hub|ography|ographic)?\b|\bhentai\b|\bonlyfans\b|\brule ?34\b`),
    unless: /\b(?:addiction|essay|law|research|effects of)\b/,
  },
  {
    id: "s.explicit-request",
    category: "sexual",
    severity: "high",
    pattern: r(
      String.raw`\b(?:describe|write|tell me|explain|show me|roleplay)\b.{0,25}\b(?:sex|sexual|dirty|erotic|smut|nsfw|kinky|horny)\b.{0,20}\b(?:scene|story|stories|detail|details|acts?|positions?|fantasy)\b|\b(?:describe|tell me about|explain) (?:having|doing it|having sex)\b|\b(?:let'?s|can we|wanna|want to)\s+(?:have\s+sex|sext|hook up)\b`,
    ),
    unless: /\b(?:reproduc\w*|chromosomes?|selection|orientation|education|health class|harassment|dimorphism|plants?|flowers?|cells?)\b/,
  },
  {
    id: "s.naked-content",
    category: "sexual",
    severity: "high",
    pattern: r(String.raw`\b(?:naked|nude)\s+(?:pics?|pictures?|photos?|girls?|boys?|women|men|people|videos?|selfies?)\b`),
    unless: /\b(?:statue|art|painting|renaissance|greek|mole rat)\b/,
  },
  // ── bullying ───────────────────────────────────────────────────────────────
  {
    id: "b.tell-to-die",
    category: "bullying",
    severity: "high",
    pattern: r(
      String.raw`\bkys\b|\btell(?:ing|s)?\s+(?:him|her|them|people|\w+)\s+to\s+(?:kill (?:himself|herself|themselves|urself|yourself)|go die|die|kys)\b|\b(?:go\s+)?kill\s+(?:yo)?urself\b|\bgo die\b|\bunalive\s+(?:yo)?urself\b|\bneck\s+(?:yo)?urself\b`,
    ),
    unless: /\b(?:don'?t|do not|never)\b.{0,10}\bkill/,
  },
  {
    id: "b.threatened",
    category: "bullying",
    severity: "high",
    pattern: r(
      String.raw`\b(?:they|he|she|someone|people|kids|they'?re|they are|he'?s|she'?s|everyone)\b.{0,20}\b(?:going to|gonna|'ll|will|want to|wants to|said they'?d)\s+(?:beat me up|jump me|hurt me|kill me|get me|stab me|shoot me|beat me)\b`,
    ),

    unless: IDIOM,
  },
  {
    id: "b.called-names",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:call|calls|calling|called)\s+me\s+(?:names|(?:a |an )?(?:\w+\s+)?(?:fat|ugly|stupid|loser|freak|retard\w*|slut|whore|bitch|weirdo|dumb|worthless|pig|gay|fag\w*))\b`,
    ),
    unless: /\b(?:joke|joking|jokingly|haha|as a joke|nickname)\b/,
  },
  {
    id: "b.excluded",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:nobody|no one|noone)\b.{0,20}\b(?:talks? to me|will talk to me|sits? with me|likes me|wants me around)\b|\b(?:they|everyone|people|kids|the others) (?:all )?(?:laugh|laughs|laughing) at me\b|\beveryone hates me\b|\bmake fun of me\b|\bmaking fun of me\b`,
    ),
  },
  {
    id: "b.online",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:posting|posted|post|posts|spreading|spread|spreads|sharing|shared|share)\b.{0,20}\b(?:mean|nasty|rumou?rs|lies|embarrassing|stuff|things|pics?|photos?|videos?)\b.{0,15}\babout me\b|\bfake (?:account|profile|page)\b.{0,40}\b(?:me|my)\b`,
    ),
    unless: /\b(?:funny|hilarious|birthday|shout ?out|congrat\w*|proud)\b/,
  },
  {
    id: "b.physical",
    category: "bullying",
    severity: "medium",
    pattern: r(String.raw`\b(?:pushed|push|pushes|shoved|shove|shoves|tripped|trip|trips|kicked|kick|kicks|punched|punch|punches|hit|hits|spat on|spit on)\s+me\b`),
    unless: new RegExp(String.raw`\bmy\s+${CARER}\b|\b(?:pillow|snowball|accident|accidentally|by mistake|playing|play-?fight|joking|ball)\b`),
  },
];

/**
 * Patterns for a finished AI answer: what a tutor must never say to a child. Student-side
 * patterns are not reused because a caring answer quotes them ("if you're thinking of killing
 * yourself, please talk to…").
 */
export const ANSWER_RULES: SafetyRule[] = [
  {
    id: "ans.encourage-self-harm",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\byou should (?:just )?(?:kill|hurt|cut|harm|starve) yourself\b|\b(?:nobody|no one) would miss you\b|\bthe (?:best|easiest|quickest|most painless) way to (?:kill yourself|die|overdose)\b|\bhere(?:'s| is| are) (?:how|some ways|a way) to (?:kill yourself|hurt yourself|self[- ]harm|overdose)\b`,
    ),
  },
  {
    id: "ans.insult",
    category: "bullying",
    severity: "high",
    pattern: r(String.raw`\byou(?:'re| are) (?:so |such an? |an? )?(?:stupid|worthless|ugly|pathetic|idiot|useless|dumb|fat|loser)\b|\bkill yourself\b|\bkys\b`),
    unless: /\b(?:not|never|aren'?t|isn'?t|don'?t|feel like|called you|says? you)\b/,
  },
  {
    id: "ans.secrecy",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\b(?:don'?t|do not|no need to) tell (?:your |any )?(?:parents?|teachers?|mum|mom|dad|adults?|anyone)\b|\bkeep (?:this|it|our (?:chat|conversation|talk)s?) (?:a |our )?secret\b|\bour (?:little )?secret\b`,
    ),
  },
  {
    id: "ans.solicit",
    category: "sexual",
    severity: "high",
    pattern: r(
      String.raw`\bsend me (?:a |some )?(?:photos?|pics?|pictures?|selfies?) of (?:yourself|you)\b|\bwhat(?:'s| is) your (?:home )?address\b|\bwhere do you live\b|\bmeet (?:me|up) in person\b`,
    ),
  },
  { id: "ans.porn", category: "sexual", severity: "high", pattern: r(String.raw`\bporn(?:hub)?\.com\b|\bexplicit sex(?:ual)? (?:scene|content) follows\b`) },
];
