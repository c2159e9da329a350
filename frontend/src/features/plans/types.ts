import type { Json, RequestBody } from '../../api/contract';
import type { paths } from '../../api/schema';

type PlanPath = paths['/api/v1/clients/{client_id}/plan'];

export type Plan = Json<PlanPath['get']['responses'][200]>;
export type PlanDocument = RequestBody<PlanPath['put']>;
export type Goal = NonNullable<PlanDocument['goals']>[number];
export type Objective = NonNullable<Goal['objectives']>[number];
export type ScoreTarget = NonNullable<Objective['score_target']>;
export type Intervention = NonNullable<PlanDocument['interventions']>[number];
export type ItemStatus = Goal['status'];
export type ProgressEntry = NonNullable<Plan['progress']>[number];
export type ProgressRating = ProgressEntry['rating'];
export type Acknowledgement = Json<paths['/api/v1/clients/{client_id}/plan/acknowledgement']['post']['responses'][201]>;
