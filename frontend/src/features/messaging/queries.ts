import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import { useMe } from '../auth/useAuth';
import { messagingClientFor, type MessagingClient, type MessagingState } from './connection';
import { fetchAway, fetchConversations, fetchWelcome, saveAway, saveWelcome } from './messagingApi';

export const messagingKeys = {
  conversations: ['messaging', 'conversations'] as const,
  welcome: ['messaging', 'welcome'] as const,
  away: ['messaging', 'away'] as const,
};

const OFFLINE_STATE: MessagingState = { status: 'connecting', conversations: {}, pending: [] };
const noop = () => () => {};

/** The tab's messaging client for the signed-in user, started on first use (it then lives as long as the session). */
export function useMessagingClient(): MessagingClient | null {
  const me = useMe().data;
  const client = me ? messagingClientFor(me.id) : null;
  useEffect(() => {
    client?.start();
  }, [client]);
  return client;
}

export function useMessagingState(client: MessagingClient | null): MessagingState {
  return useSyncExternalStore(client?.subscribe ?? noop, client?.getSnapshot ?? (() => OFFLINE_STATE));
}

/** The user's conversations; live messages refresh the counts, and the manager learns every conversation. */
export function useConversations(client: MessagingClient | null) {
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: messagingKeys.conversations, queryFn: fetchConversations });
  useEffect(() => {
    if (client && query.data) client.track(query.data);
  }, [client, query.data]);
  useEffect(() => {
    if (!client) return undefined;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = client.onActivity(() => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void queryClient.invalidateQueries({ queryKey: messagingKeys.conversations });
      }, 500);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [client, queryClient]);
  return query;
}

export function useWelcome() {
  return useQuery({ queryKey: messagingKeys.welcome, queryFn: fetchWelcome });
}

export function useSaveWelcome() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: saveWelcome,
    onSuccess: (template) => queryClient.setQueryData(messagingKeys.welcome, template),
  });
}

export function useAway() {
  return useQuery({ queryKey: messagingKeys.away, queryFn: fetchAway });
}

export function useSaveAway() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: saveAway,
    onSuccess: (away) => queryClient.setQueryData(messagingKeys.away, away),
  });
}
