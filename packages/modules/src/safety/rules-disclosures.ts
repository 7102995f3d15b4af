import { r, type SafetyRule } from "./rule-types.ts";

/*
 * English rules for the indirect ways students disclose: the means at hand ("the rope is in my
 * closet"), where they are right now ("standing on the overpass"), hiding it ("how do u hide cuts"),
 * what someone did rather than a label for it ("held me under the water"), and the everyday shapes
 * of bullying (group chats, rumours, shoving). The broad rules in rules.ts catch the explicit phrasings.
 */

const ONLINE = String.raw`(?:online|from online|the internet|(?:on|in|from) (?:discord|snap(?:chat)?|insta(?:gram)?|tiktok|roblox|fortnite|minecraft|a game|an app|whatsapp|kik|telegram|omegle|reddit|xbox|twitch|the internet))`;
const CARER = String.raw`(?:dad|father|step-?dad|stepfather|mum|mom|mother|step-?mum|step-?mom|stepmother|parents?|uncle|aunt|grandpa|grandma|brother|(?:mum|mom|mother)'?s boyfriend|(?:dad|father)'?s girlfriend|foster \w+|guardian)`;
const BODY = String.raw`(?:arm|arms|wrist|wrists|thigh|thighs|leg|legs|skin|stomach|hips?)`;
const NOT_FICTION = /\b(?:essay|novel|the book|in the book|story|character|poem|movie|film|show|episode|game|minecraft|fortnite|roblox|history|documentary|song)\b/;

export const DISCLOSURE_RULES: SafetyRule[] = [
  // ── self-harm ──────────────────────────────────────────────────────────────
  {
    id: "sh.means-at-hand",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\bnoose\b|\brope\b.{0,30}\b(?:closet|ready|tied|ceiling|beam|garage|in my room)\b|\b(?:razor|blade|razor blade|pills|knife)s?\b.{0,20}\b(?:out right now|out rn|ready|in my hand|on my (?:wrist|arm|leg))\b|\bhave (?:the |a |my )?(?:razor|blade|pills|rope)s? (?:out|ready|with me|in my hand)\b|\b(?:i'?m|im|i am) (?:standing |sitting )?(?:on|at) (?:the |a )?(?:edge of (?:the |a )?|top of (?:the |a )?)?(?:overpass|bridge|roof|rooftop|ledge|train tracks|tracks|cliff)\b`,
    ),
    unless: /\b(?:photo\w*|pictures?|sunset|view|field trip|club|jump rope|gym class|climbing|essay|story|book|game|minecraft|skateboard\w*|fishing)\b/,
  },
  {
    id: "sh.disappear",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\b(?:won'?t|wont|will not|not gonna|not going to|no longer)\s+be (?:here|around|alive)\b.{0,25}\b(?:much longer|anymore|for (?:much|long|them|it|finals|the \w+)|by (?:then|next)|soon|anyway)\b|\b(?:stop|quit) existing\b|\b(?:tired|sick) of (?:being alive|living|life|existing)\b|\bthink(?:ing)? about (?:not (?:coming back(?: up)?|waking up|being here|existing)|dying|death|ending it|killing myself|disappearing forever)\b|\b(?:should|gonna|going to|want to|wanna|ready to|thinking (?:about|of)|voices\b.{0,30}\bsay\w*) (?:i should )?(?:just )?end (?:it|it all|everything|my life)\b`,
    ),
    firstPerson: true,
    unless:
      /\b(?:vacation|trip|appointment|dentist|doctor|absent|holiday|visiting|out of town|moving|relationship|boyfriend|girlfriend|bf|gf|break ?up|friendship|the call|the game|the stream|the meeting|essay|story|book|character)\b/,
  },
  {
    id: "sh.hurting",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\b(?:hide|cover|covering|hiding) (?:my |the |these |all my )?(?:cuts|scars|marks|burns|bruises)\b|\b(?:days?|weeks?) (?:of |without )?cutting\b|\bcutting (?:again|every day|in a row)\b|\bi (?:relapsed|cut again|started cutting)\b|\b(?:scratch|scratching|scratched|carve|carving|carved|cut|cutting|burn|burning)\b.{0,12}\bmy ${BODY}\b|\b(?:punch|punching|punched|hit|hitting|bang|banging)\b.{0,10}\b(?:walls?|my head)\b.{0,30}\b(?:bleed|bleeding|bruised?|hurt myself|until)\b|\bi hate myself (?:so much|more|every day)\b`,
    ),
    firstPerson: true,
    unless:
      /\b(?:on (?:a|the|some) \w+|by accident|accidentally|by mistake|paper|shaving|cooking|fell|playing|acne|surgery|makeup for|theater|theatre|halloween|costume|tattoo|sunburn|the oven|hot pan|stove)\b/,
  },
  {
    id: "sh.jump-plan",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:gonna|going to|i'?ll|i will|plan to|want to)\s+jump\b(?!\s+(?:him|her|them|you|u|rope|in|into|on|over|the gun|start|higher|ahead|up and down|around|ship|the line|in line))(?=.{0,20}\b(?:tonight|tomorrow|today|after school|this weekend|friday|monday|off|from)\b)`,
    ),
    unless: /\b(?:pool|lake|trampoline|parachute|skydiv\w*|bungee|cliff diving|high jump|long jump|track meet|game|minecraft)\b/,
  },
  {
    id: "sh.painless",
    category: "self-harm",
    severity: "critical",
    pattern: r(String.raw`\b(?:painless|peaceful|quiet) way to go\b|\bpainless\b.{0,20}\b(?:die|death|dying|go)\b`),
    unless: /\b(?:pets?|dogs?|cats?|animals?|vet|euthanasia (?:debate|essay)|essay|debate|ethics|history|executions?|death penalty)\b/,
  },
  {
    // Hopelessness with a plan or a preparation behind it: others "better off", pills being saved.
    id: "sh.preparing",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:saving|stockpiling|hoarding|collecting|saved up|been saving)\s+(?:up\s+)?(?:my |all my |the |some )?(?:pills|meds|tablets|medication|painkillers|sleeping pills)\b|\b(?:so (?:you|u|i|a person)|to make sure (?:you|i)) (?:don'?t|dont|won'?t|wouldn'?t|wont|do not) survive\b|\bi (?:overdosed|od'?d)\b|\benough (?:pills|meds|tablets|painkillers)\b|\b(?:bought|got|stole|took|have)\b.{0,15}\b(?:a bunch of|a lot of|lots of|a bottle of|boxes of|a stash of) (?:pills|meds|tablets|painkillers)\b|\b(?:take|taking|swallow) (?:a lot|lots|a bunch|too many|all) of\b.{0,25}\b(?:pills?|tablets|meds)\b|\bpills?\b.{0,25}\bto take (?:a lot|lots|too many|all) of\b|\bmy (?:suicide )?attempt\b(?! (?:at|on|to)\b)|\bi(?:'ve)? (?:already )?(?:picked|chosen|chose|set) (?:the|a) (?:day|date)\b.{0,60}\b(?:better off|gone|goodbye|end it|over|last)\b`,
    ),
    unless: /\b(?:essay|story|book|novel|character|game|party|birthday|wedding|trip|prom|recital|cats?|dogs?|animals?|plane|crash|titanic|history)\b/,
  },
  {
    id: "sh.better-off",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\b(?:better off|happier|easier|lighter)\b.{0,25}\b(?:without me|if i (?:was|were|'?m|am) (?:gone|dead|not here|not around|never born)|when i'?m gone|once i'?m gone)\b|\beveryone (?:will|would|'?ll) be (?:better off|happier)\b|\b(?:when|after|once|for when) i'?m (?:gone|dead|not here)\b|\b(?:want|wish|hope) (?:to |i could )?(?:just )?(?:go to sleep|sleep)(?: forever)? and (?:not|never) wake up\b|\b(?:psych ward|psychiatric (?:hospital|unit|ward))\b|\bcan'?t (?:keep|go on) (?:living|like this)\b|\b(?:don'?t|dont|can'?t|cant) see (?:a|any) future\b|\bwant (?:it|everything|the pain|it all) (?:all )?to (?:stop|end) (?:forever|for good|permanently)\b`,
    ),
    unless: new RegExp(`${NOT_FICTION.source}|\\b(?:vacation|trip|camp|college|move|moving|graduate|graduation|exchange)\\b`),
  },
  {
    id: "sh.edge",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:stood|sat|was standing|was sitting|went up) (?:on|at|to) (?:the |a )?(?:edge of (?:the |a )?)?(?:bridge|roof|ledge|overpass|train tracks|tracks|cliff)\b.{0,40}\b(?:last night|for (?:an hour|hours|a while|a long time)|thinking|alone|again)\b|\bmake it look like an accident\b`,
    ),
    firstPerson: true,
    unless: /\b(?:fireworks|parade|view|photos?|pictures?|sunset|story|book|novel|mystery|game|essay|character|movie)\b/,
  },
  // ── violence ───────────────────────────────────────────────────────────────
  {
    id: "v.school-threat",
    category: "violence",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:shoot(?:ing)? up|shooting at|bomb(?:ing)?|blow(?:ing)? up|attack(?:ing)?)\s+(?:the |our |my |this )?(?:school|class|classroom|building|cafeteria|gym|lunchroom)\b|\b(?:gonna|going to|will) be (?:a )?(?:shooting|bomb)\b|\b(?:kill|killing|shoot|shooting|stab|stabbing|hurt|hurting)\s+(?:everyone|everybody|all of them|them all|my classmates|classmates|people|someone|somebody)\b|\b(?:least|not) guarded\b|\bwhen (?:does|do|will) (?:the )?(?:security|resource officer|sro|guards?|police|cops?) (?:leave|go home)\b|\bsee (?:them|him|her) bleed\b|\bmake (?:them|him|her) bleed\b`,
    ),
    unless:
      /\b(?:drill|lockdown drill|statistics|essay|report|news|history|documentary|game|fortnite|minecraft|roblox|call of duty|zombies?|in the (?:book|novel|story|movie)|character|don'?t want to|never want to|photos?|movie|film|bugs?|germs|blood drive|nosebleed)\b/,
  },
  {
    id: "v.weapon-present",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`\b(?:has|had|have|got|brought|bringing|bring|carrying|carries|showed me|is holding)\b.{0,25}\b(?:gun|knife|knives|weapon|brass knuckles|pistol|rifle|machete|bat|crowbar)\b.{0,40}\b(?:backpack|bag|locker|school|class|bathroom|right now|rn|fight|courtyard|lunch|bus|outside|parking lot)\b|\bwith (?:a |my )(?:bat|knife|gun|crowbar|hammer|brick|pipe|machete)\b.{0,40}\b(?:after (?:school|class|\w+ period)|wait\w*|bus stop|tomorrow|tonight|outside)\b|\b(?:wait(?:ing)? for|get|catch|find)\s+(?:him|her|them|\w+)\b.{0,30}\bwith (?:a |my )(?:bat|knife|gun|crowbar|hammer|brick|pipe)\b|\bpic(?:ture)? of a gun\b.{0,40}\b(?:see (?:u|you)|caption|monday|tomorrow)\b|\b(?:buy|get|sells?|selling)\b.{0,10}\b(?:a |some )?(?:gun|guns|pistol|rifle|ammo|bullets)\b.{0,25}\b(?:from (?:someone|a kid|a guy|school)|at school|sells them|without)\b`,
    ),
    unless:
      /\b(?:baseball|softball|cricket|practice|kitchen|cooking|chef|nerf|toy|water gun|glue gun|airsoft|paintball|fortnite|minecraft|roblox|game|play|musical|props?|cake|butter)\b/,
  },
  {
    id: "v.harm-plan",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`\b(?:burn(?:ing)? down|set (?:fire to|on fire)|torch)\b.{0,20}\b(?:house|home|school|car)\b|\bpoison(?:ing|ed)?\b.{0,25}\b(?:his|her|their|my \w+'?s?|someone'?s?)\b.{0,10}\b(?:coffee|drink|food|water|lunch|tea|soda)\b|\b(?:bleach|antifreeze|rat poison|eye ?drops|laxatives?)\b.{0,30}\b(?:someone'?s?|his|her|their)\b.{0,10}\b(?:drink|coffee|food|water|tea|soda)\b|\b(?:where|best place|best spot|how) to (?:hit|punch|stab|hurt|knock out)\s+(?:someone|somebody|a person|a guy|him|her|them)\b|\b(?:i'?m|im) (?:gonna|going to) (?:explode|snap) and (?:hurt|kill|hit) (?:someone|somebody|people|him|her|them)\b|\brob(?:bing)?\s+(?:someone|somebody|a (?:store|house|person|guy))\b.{0,30}\bor else\b|\b(?:gonna|going to|will|i'?ll|want to|wanna)\s+(?:break|smash|bash|cave in)\s+(?:his|her|their|your|ur)\s+(?:face|jaw|nose|legs?|arms?|skull|head|teeth)\b|\bbeat the (?:crap|shit|hell|life|living daylights) out of (?:him|her|them|you|u|\w+)\b|\bi know where (?:he|she|they|you|u) lives?\b|\bhow (?:do i|to|can i|do you|would i|do u)\s+(?:make|build)\s+(?:a |an )?(?:molotov|pipe bomb|napalm|thermite|zip gun|ghost gun)\b`,
    ),
    unless:
      /\b(?:birthday|party|sleepover|visit|dinner|study|ww2|world war|project|plants?|rats?|mice|mushrooms?|berries|snakes?|history|essay|book|novel|hamlet|romeo|story|frogs?|darts?|boxing|self[- ]defen[cs]e|martial arts|karate|mma|game|character|chemistry|science)\b/,
  },
  {
    id: "v.target-list",
    category: "violence",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:hit|kill|death|shoot) list\b|\blist of (?:people|kids|names|everyone)\b.{0,40}\b(?:deserve|die|pay|hurt|kill|shoot|regret)\b|\b(?:bring|bringing|take|taking)\s+(?:my |a |his |her )?(?:\w+'?s\s+)?(?:gun|pistol|rifle|knife)\b(?=.{0,40}\b(?:tomorrow|monday|tuesday|wednesday|thursday|friday|tonight|pay|regret|class|school)\b)`,
    ),
    unless:
      /\b(?:bucket list|reading list|shopping list|video ?game|fortnite|minecraft|roblox|hunting|range|nerf|water gun|glue gun|toy|movie|book|story|cooking|cake|knife skills|camping|fishing)\b/,
  },
  // ── abuse and grooming ─────────────────────────────────────────────────────
  {
    id: "a.harm-described",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\bis it normal (?:for|that) (?:ur|your|my|a) ${CARER}\b.{0,20}\b(?:choke|chokes|hit|hits|beat|beats|slap|slaps|punch|kick|burn|lock|locks|make|makes)\b|\b(?:bruises?|marks|welts)\b.{0,30}\bfrom (?:the |a |his |her )?(?:belt|cord|wire|hanger|wooden spoon|stick|paddle|extension cord)\b|\b(?:told|tell) (?:the nurse|my teacher|the teacher|them|everyone|people) (?:that )?i (?:fell|tripped|walked into)\b|\bheld me (?:under|down)\b|\b(?:he|she|my (?:dad|father|step-?dad|stepfather|mom|mum|mother|step-?mom|(?:mom|mum)'?s boyfriend))\b.{0,25}\b(?:hits|beats|chokes|punches|slaps|hurts|strangles|kicks)\s+my\s+(?:mom|mum|mother|dad|sister|brother|little \w+)\b|\bmakes? me (?:sit on (?:his|her) lap|sleep in (?:his|her) bed|take (?:a )?(?:bath|shower) with)\b|\b(?:comes|came|coming|sneaks|gets) in(?:to)? (?:my (?:room|bed)|bed with me)\b.{0,30}\b(?:at night|when i'?m (?:asleep|sleeping)|i hate|scared|don'?t like)\b|\b(?:walks?|walking|comes?|coming|came) in (?:when|while) i'?m (?:in the shower|changing|getting dressed|in the bath)\b|\bmakes? me sleep (?:in the|outside|on the floor)\b|\b(?:screaming|yelling|breaking|smashing|punching)\b.{0,40}\b(?:locked myself|hiding|i'?m scared|im scared)\b|\b(?:drunk|wasted)\b.{0,30}\b(?:knife|gun|hitting|yelling|screaming|breaking)\b|\b(?:don'?t|dont|do not) have (?:any )?(?:heat|water|food|electricity)\b.{0,25}\b(?:house|home)\b|\bif i tell\b.{0,40}\b(?:take me away|foster|hurt me|kill me|send me away)\b`,
    ),
    unless: NOT_FICTION,
  },
  {
    id: "a.dating",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\bmy (?:boyfriend|girlfriend|bf|gf|partner)\b.{0,40}\b(?:hits|hit me|slaps|chokes|pushes|shoves|kicks|punches|hurts me|threatens|controls|makes me (?:send|share|give)|won'?t let me|says i'?ll regret|check(?:s)? my phone|tracks? my)\b|\b(?:she|he|they)(?:'d| would| will|'ll) kill (?:herself|himself|themselves|themself) if i (?:broke up|break up|leave|left)\b|\bi'?ll regret it if i leave\b`,
    ),
    unless: NOT_FICTION,
  },
  {
    id: "gr.contact",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:guy|man|person|dude|someone|lady|woman|girl|boy|he|she)\b.{0,25}\b${ONLINE}\b.{0,100}\b(?:get in (?:the|his|her) car|parking lot|pick(?:ing)? me up|meet (?:up|me|him|her|in person|irl)|come over|his place|her place|run away|sleep ?over|hotel|send (?:pics|photos|pictures|nudes|videos?|vids)|wants? (?:\w+ )?(?:pics|photos|pictures|videos?)|pics of my|what (?:i'?m|im) wearing|our secret|keep (?:it|this) (?:a )?secret|delete (?:our|the) (?:messages|chats?)|(?:1[89]|[2-6]\d)\b)|\b(?:get in (?:the|his|her) car|pick(?:ing)? me up|meet (?:up|in person|irl))\b.{0,60}\b(?:guy|man|person|dude|someone|he|she)\b.{0,15}\b${ONLINE}\b|\bwhat (?:i'?m|im|i am) wearing\b|\bdelete (?:our|the|all (?:our|the)) (?:messages|chats?|texts|dms|convos?|conversations?)\b|\b(?:gave|bought|got) me (?:a |his |her )?(?:phone|sim card|burner)\b|\btext (?:privately|in secret|secretly)\b|\b(?:it'?s|keep (?:it|this)|is|says) (?:our|a) (?:little |special )?secret\b|\bgrown (?:man|woman|men|adult)\b.{0,30}\b(?:online|snap\w*|insta\w*|discord|tiktok|asked|wants|messag\w*)\b|\b(?:don'?t|dont|do not|never) tell (?:my |your |ur )?(?:parents|mom|mum|dad|anyone|anybody)\b|\b(?:not|never) to tell (?:my |your |ur )?(?:parents|mom|mum|dad|anyone|anybody)\b|\b(?:messages|texts|dms|snaps|calls|facetimes) me\b.{0,30}\b(?:at night|late at night|every night|at \d+ ?am|in the middle of the night)\b.{0,40}\b(?:special|secret|beautiful|mature|love|don'?t tell)\b|\b(?:1[89]|[2-6]\d)[- ]?(?:year[- ]?old|yo|y/o)\b.{0,60}\b(?:meet (?:me|up)|pick me up|come over|alone|hotel|his place|her place)\b|\b(?:say|says|said|tells me|telling me|told me) i (?:look|seem|act) (?:so |way |a lot )?(?:older|mature)\b|\b(?:wants|asked for|asks for|asking for|keeps asking for) (?:my |to know )?(?:address|where i live|home address)\b`,
    ),
    // Secrecy demanded by a parent or relative is the abuse rules' finding, not a second one here.
    unless: new RegExp(
      String.raw`\b(?:surprise|birthday|party|present|recipe|handshake|spoil\w*|outfit|prom|dance|picture day|uniform|secret santa|game|minecraft|password|crush on|likes? (?:him|her|someone))\b|\bmy (?:step-?dad|stepfather|step-?mum|step-?mom|stepmother|uncle|aunt|grandpa|grandad|brother|cousin|(?:mum|mom|mother)'?s boyfriend)\b.{0,40}\b(?:tells|told|says|said|makes)\b`,
    ),
  },
  {
    id: "gr.pressure",
    category: "grooming",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:post|share|send|leak|show)\b.{0,25}\b(?:the (?:one|pic|photo|video|nude)s?|my (?:pics|photos|nudes?))\b.{0,40}\b(?:if i (?:don'?t|dont|do not)|unless i)\b|\bif i (?:don'?t|dont|do not) send\b.{0,50}\b(?:post|share|leak|tell|show|send it to|expose)\b|\bmy (?:[2-6]\d|twenty|thirty)[- ]?(?:year[- ]?old|yo|y/o) (?:boyfriend|girlfriend|bf|gf)\b|\b(?:gives?|gave|buys?|bought)\s+me\s+(?:\w+ and )?(?:money|cash|gifts?|robux|v-?bucks|gift ?cards?|vapes?|alcohol|weed|beer|drinks)\b.{0,40}\b(?:if i|alone|secret|don'?t tell|come over|come to)\b|\bcome (?:to|over to) (?:his|her|their) (?:house|place|apartment|car|room)\b.{0,20}\balone\b`,
    ),
  },
  // ── bullying ───────────────────────────────────────────────────────────────
  {
    id: "b.everyday",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\b(?:group ?chat|gc)\b.{0,40}\b(?:without me|about me|roast\w* me|make fun|making fun|mocking|hating on me)\b|\broast(?:ing|ed)? me\b.{0,20}\b(?:24/7|every day|all the time|can'?t leave|won'?t stop)\b|\b(?:make|making|made|makes) fun of (?:me|my)\b|\b(?:pushing|shoving|shoved|pushed|thrown|slammed)\s+(?:me\s+)?(?:around|into (?:the )?lockers?|into a locker|into the wall)\b|\b(?:pants|pantsed) me\b|\btook my (?:backpack|bag|lunch|phone|stuff|shoes|hat)\b.{0,40}\b(?:threw|throw|trash|toilet|broke|won'?t give|again)\b|\bfake (?:\w+ )?(?:account|profile|page|acc)\b.{0,30}\b(?:of me|as me|pretending|my name|my face)\b|\b(?:sit|eat) alone (?:at lunch|every day)\b|\bnobody (?:wants me|lets me sit|invites me)\b|\beveryone (?:laughs|laughed|stares|stared) (?:at me|when i)\b|\b(?:spread|spreading|started|starting)\b.{0,10}\b(?:a |the )?rumou?rs?\b|\bgo back to (?:your|ur) (?:own )?country\b|\bblocked me on (?:everything|all|every)\b|\bhate (?:comments|messages|dms)\b|\b(?:saying|say|said|telling me|tell me) (?:i'?m|im|i am|i) (?:ugly|fat|worthless|stupid|a loser|poor|should (?:die|delete))\b|\bnot to (?:talk|sit|hang out) (?:to|with) me\b|\b(?:everyone|everybody|they|people|the whole class|my class)\b.{0,25}\b(?:ignores? me|ignoring me|laugh(?:s|ing)? (?:at me|when i))\b|\b(?:filmed|recorded|videoed) (?:it|me)\b.{0,30}\b(?:posted|laugh\w*|everyone|snap|tiktok)?|\bput (?:gum|glue|food|trash|water) (?:in|on) my\b|\b(?:writes?|wrote|writing|drew|draws|drawing)\b.{0,30}\babout me\b.{0,30}\b(?:wall|board|desk|locker|bathroom)\b|\b(?:mean|nasty|rude|hate|awful|horrible) (?:comments|messages|things|names)\b.{0,20}\b(?:on (?:all )?my|about me|to me|at me)\b|\b(?:poll|vote|ranking|rank)\b.{0,30}\b(?:ugliest|fattest|weirdest|most annoying|biggest loser|dumbest)\b|\b(?:posted|shared|leaked|screenshot(?:ted)?)\s+my\s+(?:diary|private|texts|secrets?|messages|pics|photos|chats|dms)\b|\b(?:calling|call|calls|called) me (?:poor|a r\W?t\W?rd)\b|\b(?:edited|fake|photoshopped|deepfake)\b.{0,20}\b(?:nude|naked)\b|\btook (?:pics|pictures|photos|videos?) of (?:me|my)\b.{0,30}\bpost\w*\b|\b(?:we|i|me and my friends)\b.{0,30}\b(?:making fun of|bullying|spamming|posting (?:her|his) pics)\b`,
    ),
    unless: /\b(?:lol jk|as a joke|jokingly|character|in the book|novel|story|movie|rumou?rs? (?:in|about) (?:the )?(?:book|story|history)|essay)\b/,
  },
];
