/** The therapist's start page; scheduling, clients and notes will hang below /therapist. */
export function TherapistArea() {
  return (
    <>
      <title>Therapist area · Hearth</title>
      <h1>Therapist area</h1>
      <p>Your schedule, clients and notes will appear here.</p>
    </>
  );
}
