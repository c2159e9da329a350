import { createBrowserRouter } from 'react-router';
import { ClientArea } from '../areas/ClientArea';
import { TherapistArea } from '../areas/TherapistArea';
import { LoginPage } from '../features/auth/LoginPage';
import { RegisterPage } from '../features/auth/RegisterPage';
import { RequireRole } from '../features/auth/RequireRole';
import { HomePage } from './HomePage';
import { Layout } from './Layout';
import { NotFoundPage } from './NotFoundPage';

export const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <HomePage /> },
      { path: 'login', element: <LoginPage /> },
      { path: 'register', element: <RegisterPage /> },
      {
        path: 'therapist',
        element: <RequireRole role="therapist" />,
        children: [{ index: true, element: <TherapistArea /> }],
      },
      {
        path: 'client',
        element: <RequireRole role="client" />,
        children: [{ index: true, element: <ClientArea /> }],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
