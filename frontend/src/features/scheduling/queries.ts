import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQueries,
  useQuery,
  useQueryClient,
  type QueryClient,
} from '@tanstack/react-query';
import { meKey } from '../auth/useAuth';
import { useViewerZone } from '../auth/useViewerZone';
import { messagingKeys } from '../messaging/queries';
import {
  cancelAppointment,
  changeAppointmentStatus,
  claimOffer,
  fetchOffers,
  fetchWaitlist,
  joinWaitlist,
  leaveWaitlist,
  fetchAppointment,
  fetchAppointmentPage,
  fetchMyOfficeHours,
  fetchMyProfile,
  fetchSlots,
  fetchTherapist,
  listAppointments,
  rescheduleAppointment,
  saveMyOfficeHours,
  saveMyProfile,
  type AppointmentFilter,
  type SlotQuery,
  type VersionedProfile,
} from './schedulingApi';
import type { Appointment, ChangeScope, JoinWaitlist, OfficeHours, ProfileInput, StaffStatus } from './types';

export const schedulingKeys = {
  myProfile: ['therapists', 'me', 'profile'] as const,
  myOfficeHours: ['therapists', 'me', 'office-hours'] as const,
  therapists: ['therapists', 'directory'] as const,
  therapist: (id: string) => ['therapists', 'public', id] as const,
  slots: ['slots'] as const,
  appointments: ['appointments'] as const,
  appointmentList: (start?: string, end?: string) => ['appointments', 'list', start ?? null, end ?? null] as const,
  appointmentPages: (filter: AppointmentFilter) => ['appointments', 'pages', filter] as const,
  appointment: (id: string) => ['appointments', 'one', id] as const,
  waitlist: ['waitlist'] as const,
  offers: ['waitlist', 'offers'] as const,
};

export function useMyProfile() {
  return useQuery({ queryKey: schedulingKeys.myProfile, queryFn: fetchMyProfile });
}

/**
 * The zone a therapist's own views are shown in: their account's (Settings), as for every user. The profile's zone is
 * the practice's, which clients see; a therapist travelling or working across zones reads times in their own.
 */
export function useTherapistZone(): string {
  return useViewerZone();
}

export function useSaveMyProfile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ input, etag }: { input: ProfileInput; etag: string }) => saveMyProfile(input, etag),
    onSuccess: (saved: VersionedProfile) => {
      queryClient.setQueryData(schedulingKeys.myProfile, saved);
      void queryClient.invalidateQueries({ queryKey: ['therapists'] });
    },
  });
}

export function useMyOfficeHours() {
  return useQuery({ queryKey: schedulingKeys.myOfficeHours, queryFn: fetchMyOfficeHours });
}

export function useSaveMyOfficeHours() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (hours: OfficeHours) => saveMyOfficeHours(hours),
    onSuccess: (saved) => {
      queryClient.setQueryData(schedulingKeys.myOfficeHours, saved);
      void queryClient.invalidateQueries({ queryKey: schedulingKeys.slots });
    },
  });
}

export function useTherapist(therapistId: string | undefined) {
  return useQuery({
    queryKey: schedulingKeys.therapist(therapistId ?? ''),
    queryFn: () => fetchTherapist(therapistId!),
    enabled: !!therapistId,
    staleTime: 5 * 60_000,
  });
}

/** Public profiles of several therapists (e.g. everyone a client has sessions with), keyed by id. */
export function useTherapists(therapistIds: string[]) {
  const unique = [...new Set(therapistIds)];
  return useQueries({
    queries: unique.map((id) => ({
      queryKey: schedulingKeys.therapist(id),
      queryFn: () => fetchTherapist(id),
      staleTime: 5 * 60_000,
    })),
    combine: (results) => new Map(results.flatMap((result, i) => (result.data ? [[unique[i]!, result.data] as const] : []))),
  });
}

export function useSlots(query: SlotQuery | null) {
  return useQuery({
    queryKey: [...schedulingKeys.slots, query],
    queryFn: () => fetchSlots(query!),
    enabled: !!query,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}

export function useAppointments(range: { start?: string; end?: string }) {
  return useQuery({
    queryKey: schedulingKeys.appointmentList(range.start, range.end),
    queryFn: () => listAppointments(range),
    placeholderData: keepPreviousData,
  });
}

/** An open-ended list (a history, everything ahead) a page at a time, in the order the view shows it. */
export function useAppointmentPages(filter: AppointmentFilter, enabled = true) {
  return useInfiniteQuery({
    queryKey: schedulingKeys.appointmentPages(filter),
    queryFn: ({ pageParam }) => fetchAppointmentPage(filter, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
    enabled,
  });
}

export function useAppointment(appointmentId: string | undefined) {
  return useQuery({
    queryKey: schedulingKeys.appointment(appointmentId ?? ''),
    queryFn: () => fetchAppointment(appointmentId!),
    enabled: !!appointmentId,
  });
}

/**
 * After a client books (or claims an offer): it may have started care with the therapist, which gives the client a
 * practice (in `me`, which matching reads to know a switch would end that care) and opens a conversation.
 */
export function careMayHaveStarted(queryClient: QueryClient): void {
  void queryClient.invalidateQueries({ queryKey: meKey });
  void queryClient.invalidateQueries({ queryKey: messagingKeys.conversations });
}

/** After any change to a session: store the new state and refetch lists and free times. */
function useAppointmentChanged() {
  const queryClient = useQueryClient();
  return (appointment: Appointment) => {
    queryClient.setQueryData(schedulingKeys.appointment(appointment.id), appointment);
    void queryClient.invalidateQueries({ queryKey: schedulingKeys.appointments });
    void queryClient.invalidateQueries({ queryKey: schedulingKeys.slots });
    // The therapist's client list shows each client's next session.
    void queryClient.invalidateQueries({ queryKey: ['clients'], exact: true });
  };
}

export function useCancelAppointment() {
  const changed = useAppointmentChanged();
  return useMutation({
    mutationFn: ({
      id,
      reason,
      scope,
      acceptLateFee,
    }: {
      id: string;
      reason: string;
      scope?: ChangeScope;
      acceptLateFee?: Parameters<typeof cancelAppointment>[3];
    }) => cancelAppointment(id, reason, scope, acceptLateFee),
    onSuccess: changed,
  });
}

export function useRescheduleAppointment() {
  const changed = useAppointmentChanged();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, start, scope }: { id: string; start: string; scope?: ChangeScope }) =>
      rescheduleAppointment(id, start, scope),
    onSuccess: changed,
    // A refused move (time taken meanwhile) means the free times shown are stale.
    onError: () => void queryClient.invalidateQueries({ queryKey: schedulingKeys.slots }),
  });
}

export function useChangeAppointmentStatus() {
  const changed = useAppointmentChanged();
  return useMutation({
    mutationFn: ({ id, status }: { id: string; status: StaffStatus }) => changeAppointmentStatus(id, status),
    onSuccess: changed,
  });
}

export function useWaitlist() {
  return useQuery({ queryKey: schedulingKeys.waitlist, queryFn: fetchWaitlist });
}

/** Open offers of freed time; polled, since an offer lasts only its claim window. */
export function useOffers() {
  return useQuery({ queryKey: schedulingKeys.offers, queryFn: fetchOffers, refetchInterval: 30_000 });
}

export function useJoinWaitlist() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ therapistId, entry }: { therapistId: string; entry: JoinWaitlist }) => joinWaitlist(therapistId, entry),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: schedulingKeys.waitlist }),
  });
}

export function useLeaveWaitlist() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: leaveWaitlist,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: schedulingKeys.waitlist }),
  });
}

export function useClaimOffer() {
  const changed = useAppointmentChanged();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: claimOffer,
    onSuccess: (appointment) => {
      changed(appointment);
      careMayHaveStarted(queryClient);
    },
    // Claimed or lost (expired, someone else was first): either way the list of offers and entries changed.
    onSettled: () => void queryClient.invalidateQueries({ queryKey: schedulingKeys.waitlist }),
  });
}
