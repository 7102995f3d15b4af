import { r, type SafetyRule } from "./rule-types.ts";

/*
 * Spanish and Vietnamese rules. Patterns are written WITHOUT diacritics and run against the
 * folded form of the message (see normalize.ts), so "quiero morirme", "tôi muốn chết" and
 * "toi muon chet" (typed without accents, as students often do) all match. Vietnamese folds to
 * many homographs ("từ từ" = slowly and "tự tử" = suicide both become "tu tu"), so its patterns
 * require the surrounding words of the risky reading, and a first-person subject where the
 * everyday idiom would otherwise match ("đói muốn chết" = "starving to death").
 */

// Spanish: someone who may be harming the student at home or in their care.
const ES_CARER = String.raw`(?:padre|papa|papi|madre|mama|padrastro|madrastra|tio|tia|abuelo|abuela|hermano|hermana|primo|prima|novio de mi (?:mama|madre)|entrenador|profesor|maestro)`;
// Vietnamese: subject pronouns a student uses for themself.
const VI_SELF = String.raw`(?:toi|minh|tao|em|con|tui|to|t)`;
const VI_NOT = String.raw`(?:khong|ko|k|hong|hok)`;
const VI_CARER = String.raw`(?:bo|ba|cha|me|ma|duong|bo duong|me ke|chu|bac|cau|di|ong|ba noi|anh trai|anh ho|thay|co giao)`;
const ES_STUDY = /\b(?:ensayo|informe|proyecto|novela|libro|personaje|poema|historia de|clase de|tarea sobre|que es|definicion|estadisticas?)\b/;
// "bài tập hóa này hành t muốn chết luôn á": homework hyperbole; "=))" is a laugh.
const VI_HYPERBOLE =
  /\b(?:bai tap|bai kiem tra|kiem tra|de thi|thi cu|mon (?:hoa|toan|ly|van|anh)|chet mat|chet luon|luon a|haha\w*|kkk+|hihi\w*|hehe\w*)\b|=\)\)|:\)\)|😂|🤣/u;
const VI_STUDY = /\b(?:bai van|bai luan|tieu thuyet|nhan vat|truyen|bai tho|sach|dinh nghia|thong ke|lich su|mon sinh|bai tap ve)\b/;

export const SPANISH_RULES: SafetyRule[] = [
  {
    id: "es.sh.intent",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:quiero|quisiera|voy a|pienso|estoy pensando en|he pensado en|planeo|me voy a)\s+(?:morirme|matarme|suicidarme|quitarme la vida|acabar con (?:mi vida|todo)|terminar con (?:mi vida|todo))\b|\bme voy a (?:matar|suicidar|quitar la vida)\b|\b(?:esta noche|hoy|manana|este fin de semana)\b.{0,25}\b(?:me mato|me suicido|acabo con todo|termino con todo|me quito la vida)\b|\b(?:ya )?(?:escribi|tengo) (?:mi|una) carta de despedida\b`,
    ),
    unless: ES_STUDY,
  },
  {
    id: "es.sh.attempt-method",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:intente|trate de|he intentado)\s+(?:matarme|suicidarme|quitarme la vida|ahorcarme|tomarme todas las pastillas)\b|\bcuantas (?:pastillas|pildoras)\b.{0,40}\b(?:morir|matarme|sobredosis|letal|mortal)\b|\bdosis (?:letal|mortal)\b|\bforma (?:mas )?(?:facil|rapida|indolora) de (?:morir|matarme|suicidarme)\b`,
    ),
    unless: ES_STUDY,
  },
  {
    id: "es.sh.want-die",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\b(?:quiero|quisiera) morir\b|\bno quiero (?:vivir|seguir viviendo|seguir aqui|seguir vivo|seguir viva|estar vivo|estar viva|existir|despertar)\b|\bnadie (?:me )?(?:extranaria|notaria|lloraria|echaria de menos)\b|\bsi (?:me muero|desaparezco)\b(?! de)|\b(?:manana|hoy|esta noche)\b.{0,20}\btodo (?:se )?(?:acaba|termina)\b|\bojala (?:estuviera|estar) muert[oa]\b|\bojala no hubiera nacido\b|\bestarian mejor sin mi\b|\b(?:me corto|me estoy cortando|me he cortado|me corte|me hago dano|me lastimo|me quemo)\b(?!.{0,20}\b(?:cocinando|con (?:el|un) papel|sin querer|por accidente)\b)`,
    ),
    unless: ES_STUDY,
  },
  {
    id: "es.ed",
    category: "eating-disorder",
    severity: "high",
    pattern: r(
      String.raw`\b(?:me hago|me provoco (?:el )?|me obligo a) vomitar\b|\bvomito (?:despues de comer|todo lo que como|cada vez que como)\b|\bno he comido (?:nada )?(?:en|desde hace) (?:\w+ )?dias\b|\bsolo (?:como|me permito) \d{2,4} calorias\b|\b(?:dejar|deje|dejo) de comer (?:para|porque)\b.{0,20}\b(?:adelgazar|gorda|gordo|peso)\b|\blaxantes\b.{0,30}\b(?:adelgazar|peso|gorda|gordo)\b|\bme mato de hambre\b|\b(?:llevo|tengo|van|ya son) (?:\d+|dos|tres|cuatro|cinco|seis) dias sin comer\b|\bvomit\w*\b.{0,30}\b(?:despues de (?:comer|cenar|desayunar|almorzar)|para no engordar)\b`,
    ),
    unless: ES_STUDY,
  },
  {
    id: "es.abuse",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\bmi ${ES_CARER}\b.{0,20}\bme (?:pega|pego|golpea|golpeo|lastima|maltrata|toca|toco|manosea|encierra|quema)\b|\b(?:abusa|abuso|abusaron) de mi\b|\btengo miedo de (?:ir|volver|regresar) a (?:mi )?casa\b|\bme (?:toca|toco) (?:donde|mis partes|por debajo)\b`,
    ),
    unless: /\b(?:jugando|sin querer|por accidente|la guitarra|el piano|una cancion|el hombro|jaja\w*|jeje\w*|xd|broma)\b/,
  },
  {
    id: "es.grooming",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:me pide|me pidio|me piden|quiere|queria)\b.{0,20}\bfotos?\b.{0,20}\b(?:desnud[oa]s?|sin ropa|intimas|privadas|en ropa interior)\b|\bfotos? (?:secretas|intimas|desnud[oa]s?)\b|\b(?:me dijo|me dice|me pidio) que no (?:se lo )?(?:dijera|diga|contara|cuente) a (?:nadie|mis padres|mi mama|mi papa)\b|\bes nuestro secreto\b|\b(?:conoci|conozco|hablo con)\b.{0,40}\b(?:internet|en linea|online|un juego|discord|instagram|tiktok|snapchat|roblox)\b.{0,80}\b(?:vernos|quedar|encontrarnos|en persona|recogerme|ir a su casa|mi direccion)\b|\btiene (?:[2-6]\d) anos\b.{0,60}\byo tengo (?:1[0-5]|[89])\b|\byo tengo (?:1[0-5]|[89])\b.{0,60}\btiene (?:[2-6]\d) anos\b`,
    ),
  },
  {
    id: "es.violence",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`\bvoy a (?:matar|apunalar|disparar(?:le)?|balear) a\b|\bvoy a (?:matarl[oa]s?|apunalarl[oa]s?|dispararles?)\b|\b(?:voy a )?(?:llevar|traer) (?:un arma|una pistola|un cuchillo|una navaja)\b.{0,20}\b(?:escuela|colegio|instituto|clase)\b`,
    ),
    unless: /\b(?:juego|videojuego|minecraft|fortnite|roblox|zombi\w*|personaje|historia|novela)\b/,
  },
  {
    id: "es.bullying",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\bme (?:llaman|dicen|gritan)\s+(?:gord[oa]|fe[oa]|estupid[oa]|perdedor\w*|idiota|tont[oa]|rar[oa]|puta|marica|asqueros[oa])\b|\b(?:se burlan|se rien|se burlaron|se rieron) de mi\b|\bnadie (?:me habla|quiere (?:estar|juntarse) conmigo|se sienta conmigo)\b|\bme (?:empujan|pegan|golpean|empujaron|pegaron)\b.{0,25}\b(?:escuela|colegio|recreo|clase|salida|companeros)\b|\b(?:publicaron|subieron|compartieron|publican)\b.{0,30}\b(?:de mi|sobre mi)\b|\bme dijeron que me (?:matara|suicidara|muriera)\b|\btodos me odian\b`,
    ),
  },
];

/** Spanish: the indirect disclosures (means, hiding, compensating, secrecy, everyday bullying). */
export const SPANISH_DISCLOSURE_RULES: SafetyRule[] = [
  {
    id: "es.sh.indirect",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\bno voy a (?:estar|seguir) (?:aqui|vivo|viva)\b|\b(?:estoy|subi) (?:en|a) (?:la azotea|el techo|el puente|las vias|la orilla)\b|\bdespedirme de\b|\b(?:pastillas|pildoras|antidepresivos|paracetamol)\b.{0,40}\b(?:no despertar|morir|matarme|para siempre)\b|\bq(?:ue)? pasa si (?:te|me|uno se) (?:tomas|tomo|toma)\b.{0,20}\b(?:toda la caja|todas las pastillas|todo el frasco|toda la botella)\b|\bya (?:lo )?tengo (?:pensado|planeado)\b.{0,20}\b(?:como|cuando) hacerlo\b|\b(?:soy|me siento) (?:un|una) (?:estorbo|carga)\b|\b(?:me tome|tome|me tomo|voy a tomar(?:me)?) (?:toda|todas) (?:la caja|las pastillas)\b`,
    ),
    unless: ES_STUDY,
  },
  {
    id: "es.ed.behaviours",
    category: "eating-disorder",
    severity: "high",
    pattern: r(
      String.raw`\b(?:como|forma de|manera de) vomitar sin\b|\bcalorias\b.{0,20}\bvomitando\b|\bsolo como (?:una|un|1) (?:manzana|galleta|yogur|fruta)\b|\bme (?:veo|siento) (?:muy |tan )?gord[oa]\b.{0,40}\b(?:como|comer|comida|comi)\b|\b(?:solo como|como)\b.{0,40}\bme (?:veo|siento) (?:muy |tan )?gord[oa]\b|\blaxantes\b.{0,20}\b(?:despues de|cada) (?:cada )?comida\b|\b(?:corro|hago ejercicio|entreno)\b.{0,40}\bcada vez q(?:ue)? como\b|\bculpable\b.{0,20}\b(?:por comer|cuando como|si como)\b|\bpurgarme|me purgo\b|\bno me baja la regla\b|\bme peso\b.{0,20}\bveces al dia\b|\bdeje de comer\b|\bcasi no como\b`,
    ),
    unless: ES_STUDY,
  },
  {
    id: "es.abuse.described",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\bentra a mi cuarto (?:en la noche|de noche|cuando duermo)\b|\bmi novi[oa]\b.{0,40}\b(?:revisa mi cel\w*|me empujo|me empuja|me pega|me pego|me controla|no me deja)\b|\bme (?:empujo|aventó|avento) contra (?:la pared|el piso)\b|\b(?:gritando|golpeando)\b.{0,20}\brompiendo cosas\b|\bme encerre en (?:el bano|mi cuarto)\b.{0,30}\bmiedo\b|\bme (?:insulta|grita|dice)\b.{0,20}\b(?:inutil|estorbo|basura)\b`,
    ),
    unless: ES_STUDY,
  },
  {
    id: "es.grooming.contact",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:senor|hombre|chavo|tipo|alguien|muchacho|chico)\b.{0,20}\bq(?:ue)? conoci en\b|\bme (?:dijo|dice|pidio) q(?:ue)? no le (?:dijera|contara|cuente|diga) a\b|\bq(?:ue)? no le (?:cuente|diga) a nadie\b|\bmadura para mi edad\b|\btiene mis fotos\b|\bsi no le mando\b|\b(?:mandar|subir|publicar|ensenar)(?:las)? a todo el (?:colegio|salon|mundo|cole)\b|\bme va a recoger\b.{0,40}\b(?:conoci|internet|insta|no le dijera)\b`,
    ),
    unless: /\b(?:sorpresa|cumpleanos|fiesta|regalo)\b/,
  },
  {
    id: "es.violence.plan",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`\b(?:llevo|llevar|traigo|traer|trae|tiene)\b.{0,25}\b(?:la pistola|una pistola|un arma|el arma|una navaja|un cuchillo|cuchillos|manoplas|machete)\b|\bvamos a (?:madrear|golpear|partirle la cara|pegarle)\b|\bbomba casera\b|\bme van a hacer dano\b|\bsaben donde vivo\b|\bganas de (?:pegarle|golpear|matar)\b|\bestoy afuera de (?:la )?casa de\b|\bse van a arrepentir\b`,
    ),
    unless: /\b(?:juego|videojuego|minecraft|fortnite|roblox|pelicula|serie|novela|cocina|chef)\b/,
  },
  {
    id: "es.bullying.everyday",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\bgrupo sin mi\b|\bfotos mias\b.{0,20}\bburlarse\b|\bburlarse de mi\b|\bcuenta falsa\b|\bnos burlamos de\b|\bsubir (?:hoy )?el video (?:donde|en el que|en el q)\b|\bme (?:tira|tiran|avientan)\b.{0,20}\b(?:mochila|cosas|lonche)\b|\btodos se rien\b|\blas mas feas\b|\bme (?:excluyen|ignoran)\b`,
    ),
  },
];

export const VIETNAMESE_RULES: SafetyRule[] = [
  {
    id: "vi.sh.intent",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b(?:muon|mun|se|dinh|tinh|quyet dinh|nghi den chuyen|nghi toi chuyen|nghi den viec|nghi toi viec)\s+(?:tu tu|tu sat|ket thuc cuoc (?:doi|song)|ket lieu (?:ban than|doi minh|chinh minh)|chet cho xong)\b|\b${VI_SELF}\s+(?:chi\s+)?(?:muon|mun|se|dinh)\s+chet\b|\b(?:dem nay|toi nay|hom nay|ngay mai)\b.{0,30}\b(?:tu tu|ket thuc tat ca|ket thuc cuoc doi|chet)\b|\b(?:da|tung|lan truoc)\s+(?:\w+\s+){0,2}(?:tu tu|tu sat|uong (?:het|ca) (?:lo|vi)? ?thuoc)\b|\bbao nhieu vien\b.{0,30}\b(?:chet|qua lieu)\b|\b(?:lieu|cach)\b.{0,15}\b(?:gay chet|de chet|chet nhanh|chet khong dau)\b`,
    ),
    unless: new RegExp(`${VI_STUDY.source}|${VI_HYPERBOLE.source}`, "u"),
  },
  {
    id: "vi.sh.want-die",
    category: "self-harm",
    severity: "high",
    pattern: r(
      String.raw`\bkhong (?:con )?muon song (?:nua)?\b|\bbien mat (?:khoi (?:the gioi|cuoc doi)|mai mai|vinh vien)\b|\bsong (?:de )?lam gi nua\b|\b${VI_SELF}\s+(?:\w+\s+)?(?:rach|cat) (?:tay|co tay|chan|dui)\b|\btu (?:lam dau|hanh ha|lam hai) (?:ban than|chinh minh)\b|\bgia ma ${VI_SELF} (?:chet|bien mat|khong ton tai)\b|\bkhong ai can ${VI_SELF}\b.{0,20}\bchet\b`,
    ),
    unless: VI_STUDY,
  },
  {
    id: "vi.ed",
    category: "eating-disorder",
    severity: "high",
    pattern: r(
      String.raw`\b(?:moc hong|moc hong cho non|lam cho minh non|tu gay non|co tinh non)\b|\ban xong\b.{0,20}\bnon (?:ra|het)\b|\b(?:nhin an|bo an|nhin doi)\b.{0,30}\b(?:giam can|gay|beo|om)\b|\b(?:khong|chua) an (?:gi )?(?:ca )?(?:may|\d+|hai|ba|bon|nam) ngay\b|\bchi an \d{2,4} calo\b|\bthuoc xo\b.{0,30}\b(?:giam can|beo|gay)\b`,
    ),
    unless: VI_STUDY,
  },
  {
    id: "vi.abuse",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\b${VI_CARER}\s+(?:${VI_SELF}\s+)?(?:hay |thuong |lai |da )?(?:danh|don|tat|dam|bop co|so vao nguoi|so soang|cham vao (?:nguoi|cho kin)|xam hai|nhot)\s+${VI_SELF}\b|\bbi (?:${VI_CARER}\s+)?(?:danh dap|bao hanh|xam hai|lam dung|so soang)\b|\bso (?:phai )?ve nha\b`,
    ),
    unless: new RegExp(`\\b(?:dua|choi|dan|cau long|bong|rang)\\b|${VI_HYPERBOLE.source}`, "u"),
  },
  {
    id: "vi.grooming",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\b(?:bao|dan|noi|bat)\s+${VI_SELF}\s+(?:dung|khong duoc)\s+(?:noi|ke)\s+(?:voi|cho)\s+(?:ai|bo me|ba me|nguoi khac)\b|\bbi mat (?:cua|giua) (?:hai )?(?:chung ta|anh em|hai dua|chu chau)\b|\b(?:doi|xin|bao|muon|bat)\b.{0,15}\b(?:gui )?anh (?:nong|khoa than|nhay cam|rieng tu|khong mac do)\b|\bquen\b.{0,20}\b(?:tren mang|qua mang|online|tren game|trong game|facebook|zalo|tiktok|discord|instagram)\b.{0,80}\b(?:gap (?:mat|rieng|nhau)|hen gap|don ${VI_SELF}|den nha|dia chi)\b|\b(?:ong|chu|anh|nguoi) (?:ay|do|nay)\b.{0,10}\b(?:[2-6]\d) tuoi\b.{0,60}\b${VI_SELF}\b.{0,10}\b(?:1[0-5]|[89]) tuoi\b`,
    ),
  },
  {
    id: "vi.violence",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`\b${VI_SELF}\s+(?:se|muon|dinh|sap)\s+(?:giet|dam|ban|chem)\s+(?:chet\s+)?(?:no|han|thang|con|nguoi|het|ca lop|ca truong|may|nhung dua)\b|\bmang (?:dao|sung|vu khi)\b.{0,15}\b(?:den|toi|vao) (?:truong|lop)\b`,
    ),
    unless: /\b(?:game|tro choi|minecraft|roblox|nhan vat|truyen|phim)\b/,
  },
  {
    id: "vi.bullying",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\bbi (?:ban be |ca lop |moi nguoi |tui no |chung no )?(?:bat nat|co lap|che cuoi|trieu choc|xa lanh|danh hoi dong|tay chay)\b|\b(?:ca lop|tui no|chung no|moi nguoi|ban be|may dua|bon no)\b.{0,20}\b(?:che cuoi|trieu|bat nat|xa lanh|co lap|goi ${VI_SELF} la|danh ${VI_SELF}|dang anh ${VI_SELF}|noi xau ${VI_SELF})\b|\bbao ${VI_SELF} (?:di chet|tu tu|bien di)\b|\bkhong ai (?:choi|noi chuyen|ngoi) (?:voi|cung) ${VI_SELF}\b`,
    ),
  },
];

/** Vietnamese: the indirect disclosures. "t"/"m" are the casual "I"/"you"; "ko" is "không". */
export const VIETNAMESE_DISCLOSURE_RULES: SafetyRule[] = [
  {
    id: "vi.sh.indirect",
    category: "self-harm",
    severity: "critical",
    pattern: r(
      String.raw`\b${VI_NOT} con o day (?:lau|nua)\b|\b(?:dung|ngoi) (?:tren|o) (?:san thuong|mai nha|thanh cau|cau|nóc nha|noc nha)\b|\bnoi tam biet\b|\bnhe nhom hon neu ${VI_NOT} co ${VI_SELF}\b|\bdao lam\b.{0,30}\b(?:trong tay|tren tay|san roi)\b|\buong het (?:vi|lo|hop|ca vi|ca lo) thuoc\b`,
    ),
    unless: VI_STUDY,
  },
  {
    id: "vi.ed.behaviours",
    category: "eating-disorder",
    severity: "high",
    pattern: r(
      String.raw`\bchi an (?:1|mot) (?:qua tao|mieng|cai banh|hop sua)\b|\bthay minh (?:van )?beo\b|\bxiu\b.{0,40}\bnhin\b|\bnhin\b.{0,20}\b${VI_NOT} muon dung\b|\b(?:do|vut|giau) com\b.{0,30}\b(?:thung rac|tuong)\b|\bde (?:me|bo|ba) tuong ${VI_SELF} an (?:roi)?\b|\bchay them\b.{0,30}\btoi loi\b|\bgiam \d+ (?:ky|kg|can)\b.{0,10}\btrong (?:1|mot) tuan\b|\bcan \d+ lan\b|\blen \d+ lang la khoc\b`,
    ),
    unless: VI_STUDY,
  },
  {
    id: "vi.abuse.described",
    category: "abuse",
    severity: "high",
    pattern: r(
      String.raw`\b(?:uong ruou|say) xong la (?:danh|chui)\b|\bneu ${VI_SELF} noi (?:voi )?ai\b.{0,20}\b(?:danh|giet|duoi)\b|\b(?:dap pha|dap do|nem do)\b.{0,30}\b(?:la het|tron|so qua|vao ${VI_SELF})\b|\bnhot ${VI_SELF}\b|\b${VI_NOT} cho an\b|\bso mo\b|\bchui ${VI_SELF} la\b|\bdo vo dung\b`,
    ),
  },
  {
    id: "vi.grooming.contact",
    category: "grooming",
    severity: "high",
    pattern: r(
      String.raw`\bquen (?:tren|qua) (?:fb|facebook|mang|zalo|tiktok|insta|game|discord)\b|\bhen don ${VI_SELF}\b|\bdan dung noi\b|\bdung noi voi (?:bo me|ba me|ai)\b|\bco anh cua ${VI_SELF}\b.{0,40}\b(?:doa|gui|dang)\b|\bdoa (?:se )?(?:gui|dang|tung)\b|\bcho ${VI_SELF} tien\b.{0,40}\bmot minh\b|\bqua nha (?:ong|chu|anh) ay\b.{0,20}\bmot minh\b|\bqua nha \w+ mot minh\b`,
    ),
  },
  {
    id: "vi.violence.plan",
    category: "violence",
    severity: "high",
    pattern: r(
      String.raw`\bmang (?:dao|sung|ma tau|vu khi)\b.{0,25}\b(?:len|den|toi|vao) (?:truong|lop)\b|\bgiau (?:dao|sung)\b|\bhen danh (?:hoi dong|nhau)\b|\bdanh sach\b.{0,30}\b(?:dang bi xu|dang chet|se xu)\b|\bcho ${VI_SELF} (?:mot|1) tran\b|\bbiet nha ${VI_SELF} o dau\b|\bma tau\b|\bthuoc chuot\b.{0,20}\b(?:nuoc|com|do an)\b|\bdang dung truoc nha (?:no|han|thang|con)\b|\bse phai hoi han\b`,
    ),
    unless: /\b(?:game|tro choi|phim|truyen|chuot nha)\b/,
  },
  {
    id: "vi.bullying.everyday",
    category: "bullying",
    severity: "medium",
    pattern: r(
      String.raw`\bnhom chat ${VI_NOT} co ${VI_SELF}\b|\bche gieu\b|\bgoi ${VI_SELF} la\b|\bxo day ${VI_SELF}\b|\b${VI_NOT} ai ua (?:m|may|${VI_SELF})\b|\bchet di\b|\bchoc (?:1|mot) ban\b|\bnem cap ${VI_SELF}\b|\bca lop cuoi\b|\bblock ${VI_SELF}\b|\bnghi choi ${VI_SELF}\b|\bdang anh (?:mat )?${VI_SELF}\b`,
    ),
  },
];
