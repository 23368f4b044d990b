/** @aruna/auth: authentication and authorization for every Aruna entry point. */
export {}
