// Imports only: each file registers its types and fields on the builder.
import './scalars.ts';
import './viewer.ts';
