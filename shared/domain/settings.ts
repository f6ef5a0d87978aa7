/**
 * Tenant settings: the approval workflow (AZ-2) and the retention of financial records
 * (DAT-4). Owners and admins change them; every change is audited like any other.
 */
import { defaultMinimumRetentionYears, minimumRetentionYears } from '#shared/config/retention';
import { StrongroomError } from './errors';

export interface ApprovalSettings {
  /** Gross amount (minor units) from which two distinct approvers are needed. */
  readonly dualApprovalThreshold: number;
  /** What an approver without an individual limit may approve (minor units); null means no limit. */
  readonly defaultApproverLimit: number | null;
  /** Individual limits by member id (minor units). */
  readonly approverLimits: Readonly<Record<string, number>>;
}

/** How long the tenant keeps its financial records (DAT-4). */
export interface RetentionSettings {
  /**
   * ISO 3166-1 alpha-2 code of the jurisdiction whose retention law applies to the tenant's
   * records; null when none was declared (the default minimum applies).
   */
  readonly jurisdiction: string | null;
  /** Whole years a closed record is kept, counted from the end of the year it was closed. */
  readonly financialRecordsYears: number;
}

export interface TenantSettings {
  readonly invoiceNumberPrefix: string;
  readonly approval: ApprovalSettings;
  readonly retention: RetentionSettings;
  readonly version: number;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

export const defaultSettings: TenantSettings = {
  invoiceNumberPrefix: 'INV-',
  approval: { dualApprovalThreshold: 1_000_000, defaultApproverLimit: null, approverLimits: {} },
  retention: { jurisdiction: null, financialRecordsYears: defaultMinimumRetentionYears },
  version: 0,
};

/** DAT-4: a retention below the legal minimum of the tenant's jurisdiction; nothing changed. */
export class RetentionBelowMinimumError extends StrongroomError {
  readonly code = 'retention-below-minimum';
  readonly status = 422;
}

/** Refuses a retention below the legal minimum of its jurisdiction, naming the minimum. */
export function checkRetention(retention: RetentionSettings): void {
  const minimumYears = minimumRetentionYears(retention.jurisdiction);
  if (retention.financialRecordsYears < minimumYears) {
    const where = retention.jurisdiction === null ? 'by default' : `in ${retention.jurisdiction}`;
    throw new RetentionBelowMinimumError(
      `Financial records must be kept for at least ${minimumYears} years ${where}.`,
      { minimumYears, jurisdiction: retention.jurisdiction },
    );
  }
}

/**
 * The years the retention job keeps the tenant's records: its choice, but never less than
 * the legal minimum in force now (a minimum raised after the choice was saved applies).
 */
export function effectiveRetentionYears(settings: TenantSettings): number {
  return Math.max(
    settings.retention.financialRecordsYears,
    minimumRetentionYears(settings.retention.jurisdiction),
  );
}

/** The most an approver may approve, or Infinity. */
export function approverLimit(settings: TenantSettings, approverId: string): number {
  return (
    settings.approval.approverLimits[approverId] ??
    settings.approval.defaultApproverLimit ??
    Number.POSITIVE_INFINITY
  );
}

/** How many distinct approvers an invoice of this gross amount needs. */
export function requiredApprovals(settings: TenantSettings, gross: number): number {
  return gross >= settings.approval.dualApprovalThreshold ? 2 : 1;
}

/** The display number of the n-th issued invoice: prefix and at least six digits. */
export function invoiceNumber(settings: TenantSettings, sequence: number): string {
  return `${settings.invoiceNumberPrefix}${String(sequence).padStart(6, '0')}`;
}
