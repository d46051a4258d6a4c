/**
 * SES, the sending side: the optional sender identity the stack creates (a domain with Easy DKIM
 * — records written into Route 53 when a hosted zone is given — or one e-mail address), and the
 * IAM grant that lets the poller send only as `email.from`.
 * SES authorizes SendEmail against the sender's identity ARN: the address identity or its domain
 * identity, whichever is verified, so both are named. While the account is in the SES sandbox,
 * SES also checks the recipients' identities (they must be verified there), so the routes'
 * recipient addresses and their domains are named too. No `*`.
 */
import { CfnOutput, Stack, ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { AwsSection } from '../config/deployment';
import { domainOf } from '../config/deployment';

export interface SesSenderIdentityProps {
  readonly identity: NonNullable<AwsSection['sesIdentity']>;
}

export class SesSenderIdentity extends Construct {
  readonly identity: ses.EmailIdentity;

  constructor(scope: Construct, id: string, props: SesSenderIdentityProps) {
    super(scope, id);
    const { domain, email, hostedZoneId, hostedZoneName } = props.identity;
    let identity: ses.Identity;
    if (domain !== undefined && hostedZoneId !== undefined) {
      const zone = route53.PublicHostedZone.fromPublicHostedZoneAttributes(this, 'Zone', {
        hostedZoneId,
        zoneName: hostedZoneName ?? domain,
      });
      identity = ses.Identity.publicHostedZone(zone);
    } else if (domain !== undefined) {
      identity = ses.Identity.domain(domain);
    } else {
      identity = ses.Identity.email(email!);
    }
    this.identity = new ses.EmailIdentity(this, 'Identity', { identity });

    if (domain !== undefined && hostedZoneId === undefined) {
      // No hosted zone: the three DKIM CNAME records must be added by hand at the DNS provider.
      this.identity.dkimRecords.forEach((record, i) => {
        new CfnOutput(this, `DkimRecord${i + 1}`, {
          description: `DKIM record ${i + 1} of 3 for ${domain}: add this CNAME at your DNS provider`,
          value: `${record.name} CNAME ${record.value}`,
        });
      });
    }
  }
}

/** The SES identity ARNs that cover an address: the address itself and its domain. */
export function identityArnsFor(scope: Construct, addresses: readonly string[]): string[] {
  const stack = Stack.of(scope);
  const names = new Set<string>();
  for (const address of addresses) {
    names.add(address.toLowerCase());
    names.add(domainOf(address));
  }
  return [...names].map((name) =>
    stack.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  );
}

/**
 * ses:SendEmail and ses:SendRawEmail as `from` only (plus, for the SES sandbox, the recipient
 * identities). Nothing is granted when no route sends e-mail.
 */
export function grantSendEmail(
  grantee: iam.IGrantable,
  scope: Construct,
  from: string,
  recipients: readonly string[],
): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['ses:SendEmail', 'ses:SendRawEmail'],
    resourceArns: identityArnsFor(scope, [from, ...recipients]),
  });
}
