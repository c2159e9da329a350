import type { Json, RequestBody } from '../../api/contract';
import type { paths } from '../../api/schema';

type NotePath = paths['/api/v1/appointments/{appointment_id}/note'];

export type Note = Json<NotePath['get']['responses'][200]>;
export type NoteDocument = RequestBody<NotePath['put']>;
export type Template = NoteDocument['template'];
export type GoalRating = NonNullable<NoteDocument['ratings']>[number];
export type Todo = Json<paths['/api/v1/notes/todo']['get']['responses'][200]>['items'][number];
export type PsychotherapyNote = Json<paths['/api/v1/psychotherapy-notes/{note_id}']['get']['responses'][200]>;
export type NewPsychotherapyNote = RequestBody<paths['/api/v1/clients/{client_id}/psychotherapy-notes']['post']>;
