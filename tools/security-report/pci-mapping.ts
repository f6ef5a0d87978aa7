/**
 * cdk-nag's newest PCI pack checks PCI DSS 3.2.1; PCI DSS 3.2.1 retired on 31 March 2024 and
 * v4.0.1 is in force. This maps each rule of the pack that applies to resource types
 * Strongroom uses (or may soon use) to the PCI DSS v4.0.1 requirements it supports.
 *
 * The mapping is ours: it follows the requirement numbers cdk-nag gives for 3.2.1 and the PCI
 * SSC's "Summary of Changes from v3.2.1 to v4.0" to the renumbered v4.0.1 requirements. It is
 * guidance for an assessor (QSA), not an assessment: a finding here is evidence of a
 * configuration, and a clean rule does not by itself satisfy a requirement.
 */
export interface PciMapping {
  /** Requirements cdk-nag names for PCI DSS 3.2.1. */
  readonly v321: string;
  /** PCI DSS v4.0.1 requirements the rule supports. */
  readonly v401: string;
}

export const pciDss401: Readonly<Record<string, PciMapping>> = {
  APIGWAssociatedWithWAF: {
    v321: '6.6',
    v401: '6.4.1, 6.4.2 (public-facing web applications protected against attacks)',
  },
  APIGWCacheEnabledAndEncrypted: { v321: '3.4', v401: '3.5.1 (stored account data rendered unreadable)' },
  APIGWExecutionLoggingEnabled: {
    v321: '10.1, 10.3.1-10.3.6, 10.5.4',
    v401: '10.2.1, 10.2.2 (audit logs enabled, with the required details), 10.3.3 (logs backed up to a central store)',
  },
  APIGWSSLEnabled: {
    v321: '2.3, 4.1, 8.2.1',
    v401: '2.2.7 (non-console administrative access encrypted), 4.2.1 (strong cryptography in transit), 8.3.2 (authentication factors unreadable in transit)',
  },
  CloudTrailCloudWatchLogsEnabled: {
    v321: '10.1, 10.2.1-10.2.7, 10.3.1-10.3.6, 10.5.3, 10.5.4',
    v401: '10.2.1, 10.2.2 (audit logs), 10.3.3 (central log store), 10.4.1.1 (automated log review)',
  },
  CloudTrailEncryptionEnabled: {
    v321: '2.2, 3.4, 10.5',
    v401: '3.5.1, 10.3.2 (audit log files protected from modification)',
  },
  CloudTrailLogFileValidationEnabled: {
    v321: '2.2, 10.5.2, 10.5.5, 11.5',
    v401: '10.3.4 (change detection on audit logs), 11.5.2 (change-detection mechanism)',
  },
  CloudWatchLogGroupEncrypted: { v321: '3.4, 10.5', v401: '3.5.1, 10.3.2' },
  CloudWatchLogGroupRetentionPeriod: {
    v321: '3.1, 10.7',
    v401: '3.2.1 (retention limited to what is needed), 10.5.1 (audit log history kept 12 months, 3 months at hand)',
  },
  IAMNoInlinePolicy: {
    v321: '2.2, 7.1.2, 7.1.3, 7.2.1, 7.2.2',
    v401: '2.2.1 (configuration standards), 7.2.1, 7.2.2 (least privilege by job function), 7.2.5 (system and application accounts least privilege)',
  },
  IAMPolicyNoStatementsWithAdminAccess: {
    v321: '2.2, 7.1.2, 7.1.3, 7.2.1, 7.2.2',
    v401: '7.2.1, 7.2.2, 7.2.5',
  },
  IAMPolicyNoStatementsWithFullAccess: { v321: '7.1.2, 7.1.3, 7.2.1, 7.2.2', v401: '7.2.1, 7.2.2, 7.2.5' },
  KMSBackingKeyRotationEnabled: {
    v321: '2.2, 3.5, 3.6, 3.6.4',
    v401: '3.6.1 (key protection procedures), 3.7.4 (key changes at the end of the cryptoperiod)',
  },
  LambdaFunctionPublicAccessProhibited: {
    v321: '1.2, 1.2.1, 1.3, 1.3.1, 1.3.2, 1.3.4, 2.2.2',
    v401: '1.3.1, 1.4.2 (inbound traffic from untrusted networks restricted), 7.2.1',
  },
  LambdaInsideVPC: {
    v321: '1.2, 1.2.1, 1.3, 1.3.1, 1.3.2, 1.3.4, 2.2.2',
    v401: '1.3.1, 1.3.2 (inbound and outbound traffic of the CDE restricted), 1.4.1, 1.4.4 (network security controls between trusted and untrusted networks)',
  },
  S3BucketLevelPublicAccessProhibited: {
    v321: '1.2, 1.2.1, 1.3, 1.3.1, 1.3.2, 1.3.4, 1.3.6, 2.2.2',
    v401: '1.3.1, 1.4.2, 1.4.4, 7.2.1',
  },
  S3BucketLoggingEnabled: { v321: '2.2, 10.1, 10.2.1-10.2.7, 10.3.1-10.3.6', v401: '10.2.1, 10.2.2' },
  S3BucketPublicReadProhibited: {
    v321: '1.2, 1.2.1, 1.3, 1.3.1, 1.3.2, 1.3.4, 1.3.6, 2.2, 2.2.2',
    v401: '1.4.2, 1.4.4, 7.2.1',
  },
  S3BucketPublicWriteProhibited: {
    v321: '1.2, 1.2.1, 1.3, 1.3.1, 1.3.2, 1.3.4, 1.3.6, 2.2, 2.2.2',
    v401: '1.4.2, 1.4.4, 7.2.1',
  },
  S3BucketReplicationEnabled: {
    v321: '2.2, 10.5.3',
    v401: '10.3.3 (audit log files backed up promptly), 12.10.1 (continuity in the incident response plan)',
  },
  S3BucketSSLRequestsOnly: { v321: '2.2, 4.1, 8.2.1', v401: '2.2.7, 4.2.1, 8.3.2' },
  S3BucketVersioningEnabled: { v321: '10.5.3', v401: '10.3.3' },
  S3DefaultEncryptionKMS: { v321: '3.4, 8.2.1, 10.5', v401: '3.5.1, 8.3.2, 10.3.2' },
  SNSEncryptedKMS: { v321: '8.2.1', v401: '3.5.1, 8.3.2' },
  SecretsManagerUsingKMSKey: { v321: '3.4, 8.2.1', v401: '3.5.1, 8.3.2' },
  VPCDefaultSecurityGroupClosed: { v321: '1.2, 1.3, 2.1, 2.2, 2.2.2', v401: '1.2.1, 1.3.1, 1.3.2, 2.2.1' },
  VPCFlowLogsEnabled: { v321: '10.1, 10.3.2, 10.3.3, 10.3.4, 10.3.5, 10.3.6', v401: '10.2.1, 10.2.2' },
  WAFv2LoggingEnabled: { v321: '10.1, 10.3.1-10.3.6, 10.5.4', v401: '10.2.1, 10.2.2, 10.3.3' },
};
