/**
 * Legal minimum retention of financial records by jurisdiction (DAT-4). A tenant's
 * retention setting may be longer, never shorter; the retention job also keeps records for
 * at least the minimum in force when it runs, so raising a minimum here applies at once to
 * every tenant, whatever they saved.
 *
 * Where statutes keep different record classes for different periods (Germany keeps books
 * for 10 years and, since 2025, accounting vouchers for 8), the table holds the longest
 * period that applies to invoices, books or annual accounts: one retention covers a
 * tenant's whole record set. Every period counts from the end of the calendar year in which
 * a record was closed (see shared/services/retention.ts).
 *
 * Sources (statutes as in force in 2026; review before relying on them for a new market):
 * - AT 7: § 132 (1) Bundesabgabenordnung; § 212 (1) Unternehmensgesetzbuch.
 * - CH 10: Art. 958f Obligationenrecht.
 * - DE 10: § 147 (3) Abgabenordnung; § 257 (4) Handelsgesetzbuch.
 * - ES 6: Art. 30 Código de Comercio.
 * - FR 10: Art. L123-22 Code de commerce.
 * - GB 6: Companies Act 2006 s. 388 (public companies); HMRC VAT Notice 700/21 (VAT records).
 * - IE 6: Taxes Consolidation Act 1997 s. 886.
 * - IT 10: Art. 2220 Codice civile.
 * - LU 10: Art. 16 Code de commerce.
 * - NL 7: Art. 2:10 (3) Burgerlijk Wetboek; Art. 52 (4) Algemene wet inzake rijksbelastingen.
 * - PL 5: Art. 74 (2) Ustawa o rachunkowości.
 * - SE 7: 7 kap. 2 § Bokföringslagen (1999:1078).
 * Any other jurisdiction, and a tenant that declared none, gets `defaultMinimumRetentionYears`.
 */

/** The minimum when a tenant's jurisdiction is not in the table or not declared. */
export const defaultMinimumRetentionYears = 10;

/** The longest retention a tenant may choose. */
export const maximumRetentionYears = 100;

/** Legal minimum retention of financial records in years, by ISO 3166-1 alpha-2 code. */
export const legalMinimumRetentionYears: Readonly<Record<string, number>> = {
  AT: 7,
  CH: 10,
  DE: 10,
  ES: 6,
  FR: 10,
  GB: 6,
  IE: 6,
  IT: 10,
  LU: 10,
  NL: 7,
  PL: 5,
  SE: 7,
};

/** The legal minimum for a jurisdiction (null: none declared). */
export function minimumRetentionYears(
  jurisdiction: string | null,
  table: Readonly<Record<string, number>> = legalMinimumRetentionYears,
): number {
  return (jurisdiction === null ? undefined : table[jurisdiction]) ?? defaultMinimumRetentionYears;
}
