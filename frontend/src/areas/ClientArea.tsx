/** The client's start page; booking, messages and check-ins will hang below /client. */
export function ClientArea() {
  return (
    <>
      <title>Client area · Hearth</title>
      <h1>Client area</h1>
      <p>Your appointments and messages will appear here.</p>
    </>
  );
}
