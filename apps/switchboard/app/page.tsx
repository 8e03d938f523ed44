import { ApiStatus } from './_components/api-status';

export default function HomePage() {
  return (
    <>
      <div className="page-intro">
        <h1>Switchboard</h1>
        <p className="lede">Control plane for Maestro Conductor workflows.</p>
      </div>
      <div className="panel-grid">
        <ApiStatus />
      </div>
    </>
  );
}
