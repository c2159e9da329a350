import type { Json, RequestBody } from '../../api/contract';
import type { paths } from '../../api/schema';

export type Instrument = Json<paths['/api/v1/instruments']['get']['responses'][200]>['items'][number];
export type InstrumentCode = paths['/api/v1/clients/{client_id}/measures/{instrument}/trend']['get']['parameters']['path']['instrument'];
export type AssignMeasure = RequestBody<paths['/api/v1/clients/{client_id}/measures']['post']>;
export type MeasureFrequency = AssignMeasure['frequency'];
export type Assignment = Json<paths['/api/v1/clients/{client_id}/measures']['get']['responses'][200]>['items'][number];
export type SubmitResponse = RequestBody<paths['/api/v1/measure-assignments/{assignment_id}/responses']['post']>;
export type Submitted = Json<paths['/api/v1/measure-assignments/{assignment_id}/responses']['post']['responses'][201]>;
export type CrisisResource = Submitted['crisis_resources'][number];
export type Score = Json<paths['/api/v1/clients/{client_id}/measure-responses']['get']['responses'][200]>['items'][number];
export type Trend = Json<paths['/api/v1/clients/{client_id}/measures/{instrument}/trend']['get']['responses'][200]>;
export type TrendPoint = Trend['points'][number];
export type SafetyAlert = Json<paths['/api/v1/safety-alerts']['get']['responses'][200]>['items'][number];
