import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router/dom';
import { ApiError } from './api/problem';
import { router } from './app/router';
import { forgetUserOnSessionEnd } from './features/auth/useAuth';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    // A 4xx answer will not change on retry; a network blip or a 5xx might.
    queries: { retry: (failures, error) => failures < 1 && !(error instanceof ApiError && error.status < 500) },
    mutations: { retry: false },
  },
});
forgetUserOnSessionEnd(queryClient);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
