import { createBrowserRouter } from 'react-router';
import { AreaLayout } from '../areas/AreaLayout';
import { ClientArea } from '../areas/ClientArea';
import { TherapistArea } from '../areas/TherapistArea';
import { SettingsPage } from '../features/account/SettingsPage';
import { BillingSettingsPage } from '../features/billing/BillingSettingsPage';
import { ChargesPage } from '../features/billing/ChargesPage';
import { InvoicesPage } from '../features/billing/InvoicesPage';
import { StatementPage } from '../features/billing/StatementPage';
import { ClientChartPage } from '../features/clients/ClientChartPage';
import { ClientsPage } from '../features/clients/ClientsPage';
import { MyScoresPage } from '../features/measures/MyScoresPage';
import { QuestionnaireFormPage } from '../features/measures/QuestionnaireFormPage';
import { QuestionnairesPage } from '../features/measures/QuestionnairesPage';
import { SafetyAlertsBanner, SafetyAlertsPage } from '../features/measures/SafetyAlerts';
import { IntakeWizardPage } from '../features/matching/IntakeWizardPage';
import { MatchingQueuePage } from '../features/matching/MatchingQueuePage';
import { MatchPage } from '../features/matching/MatchPage';
import { JoinPage } from '../features/team/JoinPage';
import { TeamPage } from '../features/team/TeamPage';
import { NoteEditorPage } from '../features/notes/NoteEditorPage';
import { NotesTodoPage } from '../features/notes/NotesTodoPage';
import { MyPlanPage } from '../features/plans/MyPlanPage';
import { LoginPage } from '../features/auth/LoginPage';
import { RegisterPage } from '../features/auth/RegisterPage';
import { RequireRole } from '../features/auth/RequireRole';
import { ClientSessionPage, TherapistSessionPage } from '../features/calls/SessionPage';
import { ConversationPage } from '../features/messaging/ConversationPage';
import { ConversationsPage } from '../features/messaging/ConversationsPage';
import { MessagingSettingsPage } from '../features/messaging/MessagingSettingsPage';
import { ClientAppointmentPage, TherapistAppointmentPage } from '../features/scheduling/AppointmentDetailsPage';
import { BookTherapistPage } from '../features/scheduling/BookTherapistPage';
import { MyAppointmentsPage } from '../features/scheduling/MyAppointmentsPage';
import { OfficeHoursEditorPage } from '../features/scheduling/OfficeHoursEditorPage';
import { ProfileEditorPage } from '../features/scheduling/ProfileEditorPage';
import { TherapistDirectoryPage } from '../features/scheduling/TherapistDirectoryPage';
import { ClientWaitlistPage, TherapistWaitlistPage } from '../features/scheduling/WaitlistPages';
import { WeekCalendarPage } from '../features/scheduling/WeekCalendarPage';
import { HomePage } from './HomePage';
import { Layout } from './Layout';
import { NotFoundPage } from './NotFoundPage';

const THERAPIST_LINKS = [
  { to: '/therapist', label: 'Overview', end: true },
  { to: '/therapist/calendar', label: 'Calendar' },
  { to: '/therapist/messages', label: 'Messages' },
  { to: '/therapist/clients', label: 'Clients' },
  { to: '/therapist/notes', label: 'Notes to write' },
  { to: '/therapist/alerts', label: 'Safety alerts' },
  { to: '/therapist/profile', label: 'Profile' },
  { to: '/therapist/office-hours', label: 'Office hours' },
  { to: '/therapist/waitlist', label: 'Waitlist' },
  { to: '/therapist/billing', label: 'Charges', end: true },
  { to: '/therapist/billing/rates', label: 'Rates and policy' },
  { to: '/therapist/billing/statement', label: 'Statement' },
  { to: '/therapist/settings', label: 'Settings' },
];

const ADMIN_LINKS = [
  { to: '/admin', label: 'Matching queue', end: true },
  { to: '/admin/team', label: 'Team' },
];

const CLIENT_LINKS = [
  { to: '/client', label: 'Overview', end: true },
  { to: '/client/intake', label: 'Get matched' },
  { to: '/client/match', label: 'Matches' },
  { to: '/client/therapists', label: 'Find a therapist' },
  { to: '/client/appointments', label: 'My appointments' },
  { to: '/client/messages', label: 'Messages' },
  { to: '/client/plan', label: 'My plan' },
  { to: '/client/questionnaires', label: 'Questionnaires' },
  { to: '/client/scores', label: 'My scores' },
  { to: '/client/waitlist', label: 'Waitlist' },
  { to: '/client/invoices', label: 'Invoices' },
  { to: '/client/settings', label: 'Settings' },
];

export const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <HomePage /> },
      { path: 'login', element: <LoginPage /> },
      { path: 'register', element: <RegisterPage /> },
      // Where an invitation email's link lands (`/join?invitation=…`); the invitee has no account yet.
      { path: 'join', element: <JoinPage /> },
      {
        path: 'therapist',
        element: <RequireRole role="therapist" />,
        children: [
          {
            element: <AreaLayout label="Therapist area" links={THERAPIST_LINKS} banner={<SafetyAlertsBanner />} />,
            children: [
              { index: true, element: <TherapistArea /> },
              { path: 'calendar', element: <WeekCalendarPage /> },
              { path: 'messages', element: <ConversationsPage /> },
              { path: 'messages/settings', element: <MessagingSettingsPage /> },
              { path: 'messages/:conversationId', element: <ConversationPage /> },
              { path: 'appointments/:appointmentId', element: <TherapistAppointmentPage /> },
              { path: 'appointments/:appointmentId/note', element: <NoteEditorPage /> },
              { path: 'appointments/:appointmentId/session', element: <TherapistSessionPage /> },
              { path: 'clients', element: <ClientsPage /> },
              { path: 'clients/:clientId', element: <ClientChartPage /> },
              { path: 'notes', element: <NotesTodoPage /> },
              { path: 'alerts', element: <SafetyAlertsPage /> },
              { path: 'profile', element: <ProfileEditorPage /> },
              { path: 'office-hours', element: <OfficeHoursEditorPage /> },
              { path: 'waitlist', element: <TherapistWaitlistPage /> },
              { path: 'billing', element: <ChargesPage /> },
              { path: 'billing/rates', element: <BillingSettingsPage /> },
              { path: 'billing/statement', element: <StatementPage /> },
              { path: 'settings', element: <SettingsPage /> },
            ],
          },
        ],
      },
      {
        path: 'client',
        element: <RequireRole role="client" />,
        children: [
          {
            element: <AreaLayout label="Client area" links={CLIENT_LINKS} />,
            children: [
              { index: true, element: <ClientArea /> },
              { path: 'intake', element: <IntakeWizardPage /> },
              { path: 'match', element: <MatchPage /> },
              { path: 'therapists', element: <TherapistDirectoryPage /> },
              { path: 'therapists/:therapistId', element: <BookTherapistPage /> },
              { path: 'appointments', element: <MyAppointmentsPage /> },
              { path: 'appointments/:appointmentId', element: <ClientAppointmentPage /> },
              { path: 'appointments/:appointmentId/session', element: <ClientSessionPage /> },
              { path: 'messages', element: <ConversationsPage /> },
              { path: 'messages/:conversationId', element: <ConversationPage /> },
              { path: 'plan', element: <MyPlanPage /> },
              { path: 'questionnaires', element: <QuestionnairesPage /> },
              { path: 'questionnaires/:assignmentId', element: <QuestionnaireFormPage /> },
              { path: 'scores', element: <MyScoresPage /> },
              { path: 'waitlist', element: <ClientWaitlistPage /> },
              { path: 'invoices', element: <InvoicesPage /> },
              { path: 'settings', element: <SettingsPage /> },
            ],
          },
        ],
      },
      {
        path: 'admin',
        element: <RequireRole role="practice_admin" />,
        children: [
          {
            element: <AreaLayout label="Practice admin area" links={ADMIN_LINKS} />,
            children: [
              { index: true, element: <MatchingQueuePage /> },
              { path: 'team', element: <TeamPage /> },
            ],
          },
        ],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
