
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_VERSION_H_INCLUDED_
#define _TTAI_VERSION_H_INCLUDED_


#define TTAI_VERSION       "0.1.0"
#define TTAI_NAME          "ttai"


#endif /* _TTAI_VERSION_H_INCLUDED_ */
