import type { paths } from '../../api/schema';

// Named from the generated contract by path, so they follow the backend's schema whatever its component names.
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
type RequestBody<T> = T extends { requestBody?: infer Body } ? Json<NonNullable<Body>> : never;

export type MyProfile = Json<paths['/api/v1/therapists/me/profile']['get']['responses'][200]>;
export type ProfileInput = RequestBody<paths['/api/v1/therapists/me/profile']['put']>;
export type PublicProfile = Json<paths['/api/v1/therapists/{therapist_id}']['get']['responses'][200]>;
export type TherapistPage = Json<paths['/api/v1/therapists']['get']['responses'][200]>;
export type OfficeHours = Json<paths['/api/v1/therapists/me/office-hours']['get']['responses'][200]>;
export type WeeklyRange = OfficeHours['weekly'][number];
export type ExceptionDay = NonNullable<OfficeHours['exceptions']>[number];
export type Rate = MyProfile['rates'][number];
export type Modality = MyProfile['modalities'][number];
export type Slots = Json<paths['/api/v1/therapists/{therapist_id}/slots']['get']['responses'][200]>;
export type Slot = Slots['slots'][number];
export type Appointment = Json<paths['/api/v1/appointments/{appointment_id}']['get']['responses'][200]>;
export type AppointmentStatus = Appointment['status'];
export type Booking = RequestBody<paths['/api/v1/appointments']['post']>;
export type StaffStatus = RequestBody<paths['/api/v1/appointments/{appointment_id}/status']['post']>['status'];
export type SeriesInput = RequestBody<paths['/api/v1/appointment-series']['post']>;
export type Series = Json<paths['/api/v1/appointment-series']['post']['responses'][201]>;
export type Occurrence = Series['occurrences'][number];
export type Frequency = SeriesInput['frequency'];
/** Whether a change to a recurring session applies to it alone or to it and every later one. */
export type ChangeScope = NonNullable<RequestBody<paths['/api/v1/appointments/{appointment_id}/cancel']['post']>['scope']>;
export type WaitlistEntry = Json<paths['/api/v1/waitlist']['get']['responses'][200]>['items'][number];
export type JoinWaitlist = RequestBody<paths['/api/v1/therapists/{therapist_id}/waitlist']['post']>;
export type Offer = Json<paths['/api/v1/waitlist/offers']['get']['responses'][200]>['items'][number];
export type CalendarFeed = Json<paths['/api/v1/calendar-feeds']['post']['responses'][201]>;
