'use client';
// A write to the API from a settings form: on success the lists it changes are read again; the API's error
// message is kept for the form's Alert.
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { errorMessage } from '../app/api-client';

export function useApiMutation<V, R = unknown>(write: (variables: V) => Promise<R>, changes: QueryKey[], onDone?: (result: R) => void) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: write,
    onSuccess: async (result) => {
      onDone?.(result);
      await Promise.all(changes.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    },
  });
  return { ...mutation, errorText: mutation.error ? errorMessage(mutation.error) : null };
}

/** Asks before something that cannot be undone. */
export function confirmed(question: string): boolean {
  return window.confirm(question);
}
