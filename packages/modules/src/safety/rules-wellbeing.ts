import { r, type SafetyRule } from "./rule-types.ts";

// Study, health class and fiction: asking ABOUT a thing is not doing it.
const STUDY =
  /\b(?:essay|report|project|presentation|health class|pe class|biology|textbook|chapter|article|documentary|definition|define|symptoms? of|signs of|what is|what are|what does|why do people|awareness|research|novel|the book|in the book|character|the story|poem|play)\b/;

// An adult or much older person the student knows from the internet or a game.
const ONLINE = String.raw`(?:online|on (?:discord|snap(?:chat)?|insta(?:gram)?|tiktok|roblox|fortnite|minecraft|the internet|a game|an app|whatsapp|kik|telegram)|(?:discord|snapchat|insta|instagram|tiktok|roblox|fortnite|minecraft|gaming|game) (?:friend|guy|chat|server))`;

/**
 * English rules for eating disorders (purging, restricting, pro-ana) and grooming / sexual
 * exploitation by an adult (secrecy, photos, meeting someone much older met online, gifts for
 * pictures). Kept apart from rules.ts so each file stays readable.
 */
export const WELLBEING_RULES: SafetyRule[] = [
  // ── eating disorders ───────────────────────────────────────────────────────
  {
    id: "ed.purge",
    category: "eating-disorder",
    severity: "high",
    pattern: r(
      String.raw`\b(?:make|made|making|force|forced|forcing)\s+my\s?self\s+(?:(?:throw|puke|vomit)(?: it| everything| it all)? up|puke|vomit|be sick|sick)\b|\b(?:throw|threw|throwing|puke|puking|puked|vomit|vomiting|vomited)\s+up\b.{0,30}\b(?:after (?:i eat|eating|meals?|dinner|lunch|breakfast|every|i ate)|so i (?:don'?t|won'?t) gain)|\b(?:fingers?|toothbrush) down my throat\b|\bi(?:'ve| have)? (?:been )?purg(?:e|ed|ing)\b|\b(?:taking|take|took|use|using)\b.{0,15}\blaxatives?\b.{0,40}\b(?:weight|thin|skinny|fat|after (?:i eat|eating))`,
    ),
    unless: STUDY,
  },
  {
    id: "ed.restrict",
    category: "eating-disorder",
    severity: "high",
    pattern: r(
      String.raw`\bi (?:haven'?t|have not|havent) (?:eaten|eaten anything|had (?:any )?food)\b.{0,25}\b(?:days?|since|all week|in \w+ days)\b|\bi (?:only|just) (?:eat|ate|allow myself|let myself (?:eat|have))\b.{0,20}\b\d{2,4}\s*(?:cal|calories|kcal)\b|\b(?:under|less than|below) \d{2,3}\s*(?:cal|calories|kcal) a day\b|\bstarv(?:e|ing|ed) my\s?self\b|\bi (?:refuse|won'?t let myself|can'?t let myself|don'?t deserve) to eat\b|\b(?:skip|skipping|skipped)\b.{0,15}\b(?:every|all|all my)\b.{0,10}\bmeals?\b.{0,40}\b(?:weight|thin|skinny|fat|lose)\b|\bfast(?:ing)? for \w+ days\b.{0,40}\b(?:weight|thin|skinny|fat)\b`,
    ),
    unless: STUDY,
  },
  {
    id: "ed.fear-food",
    category: "eating-disorder",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:i feel|i'?m|i am|i look) (?:so |too |really |disgustingly )?(?:fat|huge|disgusting)\b.{0,40}\b(?:eat|ate|food|meal|weight|starve)\b|\b(?:if|when) i eat\b.{0,25}\b(?:get|feel|be) fat\b|\b(?:hide|hiding|hid) (?:that i(?:'m| am)? not eating|my food|food from)\b|\bhow (?:do i|to|can i) (?:stop|suppress|ignore) (?:being |feeling )?hung(?:ry|er)\b|\bhow (?:do i|to|can i) (?:lose|drop) \d+\s*(?:kg|kilos?|lbs?|pounds?) in (?:a|one|\d+) (?:week|weeks|days?)\b|\bpro[- ]?ana\b|\bthinspo\b|\bana (?:tips|coach|buddy)\b|\bthigh gap\b.{0,30}\b(?:need|want|have to)\b`,
    ),
    unless: STUDY,
  },
  {
    // What eating disorders look like from the inside: hiding, compensating, weight goals, body signs.
    id: "ed.behaviours",
    category: "eating-disorder",
    severity: "high",
    pattern: r(
      String.raw`\b(?:hide|hiding|hid)\b.{0,25}\b(?:not eating|that i(?:'m| am|m)? not eating|my food|food in|my lunch|meals?)\b|\b(?:excuse|excuses|way|ways) to (?:skip|get out of|avoid) (?:dinner|lunch|breakfast|meals?|eating)\b|\bso (?:my parents|my mom|my mum|my dad|they|everyone) (?:think|thinks) i (?:ate|eat|'ve eaten)\b|\b(?:tell|told) (?:my \w+|them|everyone) i (?:ate|already ate)\b.{0,40}\b(?:didn'?t|didnt|did not)\b|\b(?:ran|run|running|exercised?|work(?:ed)? out|crunches|sit-?ups)\b.{0,40}\b(?:disgusting|gross|guilty|so fat)\b.{0,20}\b(?:for eating|after eating|bc i ate|because i ate)\b|\b(?:disgusting|gross|guilty)\b.{0,10}\bfor eating\b|\b\d+ (?:crunches|sit-?ups|squats|laps|miles|burpees)\b.{0,30}\bif i (?:eat|ate)\b|\bcalories (?:do you|do u|you|u|does) (?:burn|lose)\b.{0,10}\b(?:throwing up|puking|purging|vomiting)\b|\b(?:ate|eat|eating)\b.{0,60}\b(?:want to|need to|have to|gonna) (?:get rid of it|throw (?:it )?up|purge)\b|\b(?:after|from|since) purging\b|\b(?:get|be|weigh|reach|go)\s+(?:under|below|less than)\s+\d{2,3}\s*(?:lbs?|pounds|kg|kilos)\b|\b(?:lose|drop)\s+\d+\s*(?:lbs?|pounds|kg|kilos)\s+in\s+(?:a|one|\d+|two)\s+(?:week|weeks|days?)\b|\bweigh myself\b.{0,30}\b(?:times a day|every (?:hour|meal)|cry|panic|freak)\b|\bdiet pills\b|\b(?:barely|hardly) eat(?:ing)?\b|\b(?:eating less|stopped eating)\b.{0,60}\b(?:period|hair|dizzy|faint|heart)\b|\bperiod (?:stopped|has stopped|went away)\b|\bliving on (?:ice chips|water|coffee|gum|diet (?:coke|soda)|apples|celery|crackers)\b|\bskip(?:ped|ping)? (?:lunch|dinner|breakfast|meals?) (?:all week|every day|for (?:days|a week|\w+ days))\b|\b\d+[- ]?(?:hour|day) fasts?\b.{0,20}\b(?:every|each|a) (?:week|day)\b|\bhaven'?t eaten a (?:real |proper )?meal in\b|\bhavent eaten a (?:real |proper )?meal in\b|\b(?:stop|quit) (?:needing|eating) (?:food|anything)\b|\bevery bite\b.{0,30}\b(?:hate|disgust|guilt)\b|\bso (?:i|that i) (?:don'?t|dont|won'?t|wont) (?:have to |need to )?eat\b|\bi (?:think i |might |probably )?(?:have|struggle with|am struggling with|'ve got|got) (?:an? )?(?:eating disorder|anorexia|bulimia|binge eating disorder)\b|\bi (?:haven'?t|havent|have not) (?:had|eaten) (?:breakfast|lunch|dinner|a meal|food|anything)(?: or (?:breakfast|lunch|dinner))? in (?:days|weeks|\w+ days|\w+ weeks)\b|\bwant to be (?:so )?(?:skinny|thin)\b.{0,10}\b(?:so bad|no matter what|at any cost|whatever it takes)\b|\bonly (?:had|drank|eat|ate) (?:water|coffee|tea|(?:a|one|half an?) \w+)\b.{0,25}\b(?:today|all day|yesterday|this week)\b|\bneed to lose more\b|\bi still (?:see|feel|look) (?:so )?fat\b|\bsee fat everywhere\b|\b(?:when|while|since) i'?m fasting\b(?!.{0,40}\b(?:ramadan|lent|yom kippur|religio\w*|church|mosque|eid|blood test|surgery)\b)|\b(?:ribs|bones|hip ?bones|collarbones?) (?:are |were )?(?:showing|sticking out)\b|\bcount(?:ing)? every calorie\b|\bif i (?:go over|eat more than) \d+\b|\b(?:punish|punishing) myself\b.{0,30}\b(?:eat|ate|eating|food|calorie)\w*|\bi (?:feel|felt) (?:so |really )?(?:fat|huge|disgusting)\b.{0,60}\b(?:skip\w*|starv\w*|didn'?t eat|not eat\w*|won'?t eat|lunch|dinner)\b`,
    ),
    unless: STUDY,
  },
  // ── grooming and sexual exploitation by an adult ───────────────────────────
  {
    id: "gr.secret",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:(?:he|she|they)\s+(?:said|says|told me|tells me|made me promise)|promised? (?:him|her|them))\b.{0,30}\b(?:(?:not|never) to tell|(?:our|a) (?:little |special )?secret|keep (?:it|this|us) (?:a )?secret|between (?:us|me and (?:him|her|them))|delete (?:the|our) (?:chats?|messages))\b`,
    ),
    unless: /\b(?:surprise|birthday|party|present|gift for (?:mum|mom|dad)|game|spoiler)\b/,
  },
  {
    id: "gr.photos",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:secret|private|special|sexy|spicy)\s+(?:photos?|pics?|pictures?|selfies?|videos?)\b|\b(?:photos?|pics?|pictures?|selfies?|videos?)\s+(?:of me\s+)?(?:in my (?:underwear|bra|pyjamas|pajamas|bathing suit|swimsuit)|without (?:my )?(?:clothes|shirt|top))\b|\b(?:asked|asks|wants|wanted|told) me to (?:turn on (?:my )?(?:camera|cam)|video ?call|facetime)\b.{0,40}\b(?:alone|at night|in (?:my )?bed|in my room|when (?:my parents|no one|nobody))\b`,
    ),
  },
  {
    id: "gr.older-online",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:met|meet|know|talking to|talk to|chatting with|chat with|friends with)\b.{0,40}\b${ONLINE}\b.{0,80}\b(?:meet (?:up|me|him|her|them|in person)|come (?:to my house|over|pick me up)|pick me up|visit me|my address|where i live|hotel|his (?:house|place|car)|her (?:house|place|car))\b|\b(?:meet (?:up|him|her|them|in person)|pick me up)\b.{0,60}\b(?:met|know|talking|chat\w*)\b.{0,20}\b${ONLINE}\b`,
    ),
    unless: /\b(?:with my (?:mum|mom|dad|parents?)|my parents (?:know|said yes|are coming)|school trip)\b/,
  },
  {
    id: "gr.age-gap",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:he'?s|she'?s|he is|she is|they'?re|they are|guy is|man is|boyfriend is|girlfriend is)\s+(?:[2-6]\d|twenty|thirty|forty|fifty)\b.{0,80}\b(?:i'?m|i am)\s+(?:1[0-5]|[89]|ten|eleven|twelve|thirteen|fourteen|fifteen)\b|\b(?:i'?m|i am)\s+(?:1[0-5]|ten|eleven|twelve|thirteen|fourteen|fifteen)\b.{0,80}\b(?:he'?s|she'?s|he is|she is|they'?re|boyfriend is|girlfriend is)\s+(?:[2-6]\d|twenty|thirty|forty|fifty)\b|\b(?:my )?(?:boyfriend|girlfriend)\b.{0,20}\b(?:is|who'?s) (?:[2-6]\d|twenty|thirty|forty)\b`,
    ),
    unless: /\b(?:years? old (?:teacher|coach)|my (?:dad|mum|mom|uncle|aunt|brother|sister|cousin|teacher) is)\b/,
  },
  {
    id: "gr.gifts",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:sends?|sent|gives?|gave|buys?|bought|offer(?:s|ed)?)\s+me\s+(?:money|gifts?|robux|v-?bucks|gift ?cards?|skins|presents)\b.{0,60}\b(?:if i|for (?:pics|photos|pictures)|in return|in exchange|secret|don'?t tell)\b|\b(?:pics|photos|pictures|selfies)\b.{0,30}\b(?:for|in exchange for) (?:money|robux|v-?bucks|gift ?cards?|skins)\b`,
    ),
  },
  {
    id: "gr.mature",
    category: "grooming",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:says|said|tells me|told me)\b.{0,15}\bi'?m (?:so |really )?mature for my age\b|\b(?:an? )?(?:older|grown|adult) (?:guy|man|woman|person|friend)\b.{0,40}\b(?:online|snap|discord|insta)\b.{0,40}\b(?:likes? me|loves? me|my boyfriend|my girlfriend|dating)\b`,
    ),
  },
];
