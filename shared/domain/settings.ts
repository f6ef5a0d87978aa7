/**
 * Tenant settings that govern the approval workflow (AZ-2). Owners and admins change
 * them; every change is audited like any other.
 */
export interface ApprovalSettings {
  /** Gross amount (minor units) from which two distinct approvers are needed. */
  readonly dualApprovalThreshold: number;
  /** What an approver without an individual limit may approve (minor units); null means no limit. */
  readonly defaultApproverLimit: number | null;
  /** Individual limits by member id (minor units). */
  readonly approverLimits: Readonly<Record<string, number>>;
}

export interface TenantSettings {
  readonly invoiceNumberPrefix: string;
  readonly approval: ApprovalSettings;
  readonly version: number;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

export const defaultSettings: TenantSettings = {
  invoiceNumberPrefix: 'INV-',
  approval: { dualApprovalThreshold: 1_000_000, defaultApproverLimit: null, approverLimits: {} },
  version: 0,
};

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
