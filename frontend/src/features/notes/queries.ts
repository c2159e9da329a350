import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { planKeys } from '../plans/queries';
import {
  addAddendum,
  createPsychotherapyNote,
  editPsychotherapyNote,
  fetchNote,
  fetchPsychotherapyNotes,
  fetchTodo,
  signNote,
  type VersionedNote,
} from './notesApi';
import type { NewPsychotherapyNote } from './types';

export const noteKeys = {
  note: (appointmentId: string) => ['notes', 'appointment', appointmentId] as const,
  todo: ['notes', 'todo'] as const,
  psychotherapy: (clientId: string) => ['psychotherapy-notes', clientId] as const,
};

export function useNote(appointmentId: string | undefined) {
  return useQuery({
    queryKey: noteKeys.note(appointmentId ?? ''),
    queryFn: () => fetchNote(appointmentId!),
    enabled: !!appointmentId,
    // The editor owns the draft while it is open: a background refetch must not replace what is being typed.
    refetchOnWindowFocus: false,
    staleTime: Infinity,
  });
}

export function useSignNote(appointmentId: string, clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ noteId, etag }: { noteId: string; etag: string }) => signNote(noteId, etag),
    onSuccess: (signed: VersionedNote) => {
      queryClient.setQueryData(noteKeys.note(appointmentId), signed);
      void queryClient.invalidateQueries({ queryKey: noteKeys.todo });
      // The note's goal ratings joined the plan's progress.
      void queryClient.invalidateQueries({ queryKey: planKeys.client(clientId) });
    },
  });
}

export function useAddAddendum(appointmentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ noteId, text }: { noteId: string; text: string }) => addAddendum(noteId, text),
    onSuccess: (note: VersionedNote) => queryClient.setQueryData(noteKeys.note(appointmentId), note),
  });
}

export function useTodo() {
  return useQuery({ queryKey: noteKeys.todo, queryFn: fetchTodo });
}

export function usePsychotherapyNotes(clientId: string) {
  return useQuery({ queryKey: noteKeys.psychotherapy(clientId), queryFn: () => fetchPsychotherapyNotes(clientId) });
}

export function useCreatePsychotherapyNote(clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewPsychotherapyNote) => createPsychotherapyNote(clientId, body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: noteKeys.psychotherapy(clientId) }),
  });
}

export function useEditPsychotherapyNote(clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ noteId, text, version }: { noteId: string; text: string; version: number }) =>
      editPsychotherapyNote(noteId, text, version),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: noteKeys.psychotherapy(clientId) }),
  });
}
