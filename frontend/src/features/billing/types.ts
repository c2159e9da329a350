import type { Json, RequestBody } from '../../api/contract';
import type { paths } from '../../api/schema';

export type BillingSettings = Json<paths['/api/v1/therapists/me/billing-settings']['get']['responses'][200]>;
export type BillingSettingsInput = RequestBody<paths['/api/v1/therapists/me/billing-settings']['put']>;
export type Rate = BillingSettingsInput['rates'][number];
export type Policy = Json<paths['/api/v1/therapists/{therapist_id}/cancellation-policy']['get']['responses'][200]>;
export type PolicyInput = RequestBody<paths['/api/v1/therapists/me/cancellation-policy']['put']>;
export type FeeRule = NonNullable<PolicyInput['late_cancellation']>;
export type Charge = Json<paths['/api/v1/charges']['get']['responses'][200]>['items'][number];
export type CodingOverride = RequestBody<paths['/api/v1/charges/{charge_id}/coding-overrides']['post']>;
export type Invoice = Json<paths['/api/v1/invoices']['get']['responses'][200]>['items'][number];
export type Payment = Json<paths['/api/v1/invoices/{invoice_id}/payments']['post']['responses'][201]>;
export type PaymentsConfig = Json<paths['/api/v1/payments/config']['get']['responses'][200]>;
export type Statements = Json<paths['/api/v1/therapists/me/statements']['get']['responses'][200]>;
export type Statement = Statements['months'][number];
export type ClaimRecord = Json<paths['/api/v1/clients/{client_id}/billing-record']['get']['responses'][200]>;
export type CancellationTerms = Json<paths['/api/v1/appointments/{appointment_id}/cancellation-terms']['get']['responses'][200]>;
