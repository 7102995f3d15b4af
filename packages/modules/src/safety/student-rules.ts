import type { SafetyRule } from "./rule-types.ts";
import { ENGLISH_RULES } from "./rules.ts";
import { DISCLOSURE_RULES } from "./rules-disclosures.ts";
import { SPANISH_DISCLOSURE_RULES, SPANISH_RULES, VIETNAMESE_DISCLOSURE_RULES, VIETNAMESE_RULES } from "./rules-es-vi.ts";
import { WELLBEING_RULES } from "./rules-wellbeing.ts";

/** Every rule tried on a student message: English, then Spanish and Vietnamese. */
export const STUDENT_RULES: readonly SafetyRule[] = [
  ...ENGLISH_RULES,
  ...DISCLOSURE_RULES,
  ...WELLBEING_RULES,
  ...SPANISH_RULES,
  ...SPANISH_DISCLOSURE_RULES,
  ...VIETNAMESE_RULES,
  ...VIETNAMESE_DISCLOSURE_RULES,
];
